// Sign-up step 2: create the account's passkey after explicit, unticked opt-in on the
// notice shown above the box (its version and hash travel with the request).
import { pageData } from "./api.js";
import { createPasskeyOnSubmit } from "./consent-notice.js";
import { passkeysSupported } from "./webauthn.js";
import { message, showStatus } from "./ui.js";

const form = document.getElementById("passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("create-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

if (!passkeysSupported()) {
  showStatus(status, message("passkeysUsePasswordInstead"), "error");
}

createPasskeyOnSubmit({
  form,
  consent,
  button,
  status,
  endpoints,
  messages: {
    missing: message("consentTickFirstOrPassword"),
    checking: message("passkeyChecking"),
    success: message("passkeyReadySigningIn"),
  },
});

// Rendered disabled, so a click before this module runs cannot submit the form natively.
button.disabled = !passkeysSupported();
