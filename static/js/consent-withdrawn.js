// After withdrawing consent: the server has deleted the passkeys; ask the browser's
// passkey provider to stop offering them (WebAuthn Signal API,
// PublicKeyCredential.signalAllAcceptedCredentials with an empty list), through the
// shared helpers of signal.js. Feature-detected: without it the passkeys simply stop
// working here, and the page says what to do.
import { pageData } from "./api.js";
import { signalAllAcceptedCredentials, signalSupported } from "./signal.js";
import { message, showStatus } from "./ui.js";

const status = document.getElementById("signal-status");
const { signal } = pageData();
const STILL_LISTED = message("passkeysStillListed");

async function forgetPasskeys() {
  if (!signal || !signalSupported("signalAllAcceptedCredentials")) {
    status.dataset.signal = "unsupported";
    showStatus(status, STILL_LISTED);
    return;
  }
  if (await signalAllAcceptedCredentials(signal)) {
    status.dataset.signal = "sent";
    showStatus(status, message("passkeysSignalSent"), "success");
  } else {
    status.dataset.signal = "failed";
    showStatus(status, STILL_LISTED);
  }
}

forgetPasskeys();
