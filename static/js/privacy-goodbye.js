// After account deletion: ask the browser's passkey provider to forget this account's
// passkeys (WebAuthn L3 Signal API, signalAllAcceptedCredentials with an empty list).
// The server put the rpId and user handle in the page data just for this page; the
// account they belonged to no longer exists. Feature-detected in signal.js.
import { sendPageSignals, signalSupported } from "./signal.js";
import { message, showStatus } from "./ui.js";

const status = document.getElementById("forget-status");

async function forgetPasskeys() {
  if (!signalSupported("signalAllAcceptedCredentials")) {
    showStatus(status, message("forgetUnsupported"));
    return;
  }
  const [accepted] = await sendPageSignals();
  showStatus(
    status,
    accepted ? message("forgetSent") : message("forgetNotConfirmed"),
    accepted ? "success" : "info",
  );
}

forgetPasskeys();
