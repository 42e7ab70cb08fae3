// After account deletion: ask the browser's passkey provider to forget this account's
// passkeys (WebAuthn L3 Signal API, signalAllAcceptedCredentials with an empty list).
// The server put the rpId and user handle in the page data just for this page; the
// account they belonged to no longer exists. Feature-detected in signal.js.
import { sendPageSignals, signalSupported } from "./signal.js";
import { showStatus } from "./ui.js";

const status = document.getElementById("forget-status");

async function forgetPasskeys() {
  if (!signalSupported("signalAllAcceptedCredentials")) {
    showStatus(status, "This browser can't be told to forget passkeys automatically.");
    return;
  }
  const [accepted] = await sendPageSignals();
  showStatus(
    status,
    accepted
      ? "Your browser was asked to forget the passkeys it holds for this site."
      : "Your browser didn't confirm that it forgot this site's passkeys.",
    accepted ? "success" : "info",
  );
}

forgetPasskeys();
