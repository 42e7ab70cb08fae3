// Sign-up step 2: create the account's passkey after explicit, unticked opt-in on the
// notice shown above the box (its version and hash travel with the request).
import { pageData } from "./api.js";
import { createPasskeyOnSubmit } from "./consent-notice.js";
import { passkeysSupported } from "./webauthn.js";
import { showStatus } from "./ui.js";

const form = document.getElementById("passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("create-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

if (!passkeysSupported()) {
  showStatus(status, "This browser can't use passkeys. Please use a password and a one-time code instead.", "error");
}

createPasskeyOnSubmit({
  form,
  consent,
  button,
  status,
  endpoints,
  messages: {
    missing: "Please tick the box to agree to passkey sign-in first, or choose the password option.",
    checking: "Checking your new passkey…",
    success: "Your passkey is ready. Signing you in…",
  },
});

// Rendered disabled, so a click before this module runs cannot submit the form natively.
button.disabled = !passkeysSupported();
