// After withdrawing consent: the server has deleted the passkeys; ask the browser's
// passkey provider to stop offering them (WebAuthn Signal API,
// PublicKeyCredential.signalAllAcceptedCredentials with an empty list). Feature-detected:
// without it the passkeys simply stop working here, and the page says what to do.
import { pageData } from "./api.js";
import { showStatus } from "./ui.js";

const status = document.getElementById("signal-status");
const { signal } = pageData();

async function forgetPasskeys() {
  const supported =
    typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.signalAllAcceptedCredentials === "function";
  if (!signal || !supported) {
    status.dataset.signal = "unsupported";
    showStatus(
      status,
      "Your passkeys no longer work here. Your device may still list them: you can delete them in its passkey settings.",
    );
    return;
  }
  try {
    await PublicKeyCredential.signalAllAcceptedCredentials(signal);
    status.dataset.signal = "sent";
    showStatus(status, "Your browser was asked to stop offering your passkeys for this site.", "success");
  } catch {
    status.dataset.signal = "failed";
    showStatus(
      status,
      "Your passkeys no longer work here. Your device may still list them: you can delete them in its passkey settings.",
    );
  }
}

forgetPasskeys();
