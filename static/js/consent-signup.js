// Sign-up step 2: create the account's passkey after explicit, unticked opt-in on the
// notice shown above the box (its version and hash travel with the request).
import { pageData } from "./api.js";
import { createPasskeyOnSubmit } from "./consent-notice.js";
import { message } from "./ui.js";

const form = document.getElementById("passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("create-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

createPasskeyOnSubmit({
  form,
  consent,
  button,
  status,
  endpoints,
  messages: {
    unsupported: message("passkeysUsePasswordInstead"),
    missing: message("consentTickFirstOrPassword"),
    checking: message("passkeyChecking"),
    success: message("passkeyReadySigningIn"),
  },
});
