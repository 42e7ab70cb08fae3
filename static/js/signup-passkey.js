// Sign-up step 2: create the account's passkey after explicit, unticked opt-in.
import { pageData, postJSON } from "./api.js";
import { createPasskey, explainCeremonyError, passkeysSupported } from "./webauthn.js";
import { busy, showStatus } from "./ui.js";

const form = document.getElementById("passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("create-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

if (!passkeysSupported()) {
  showStatus(status, "This browser can't use passkeys. Please use a password and a one-time code instead.", "error");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!consent.checked) {
    showStatus(status, "Please tick the box to agree to passkey sign-in first, or choose the password option.", "error");
    consent.setAttribute("aria-invalid", "true");
    consent.focus();
    return;
  }
  consent.removeAttribute("aria-invalid");
  busy(button, true);
  showStatus(status, "Follow the prompt on your device…");
  let startedAt = 0;
  let timeoutMs = 0;
  try {
    const options = await postJSON(endpoints.options, { consent: true });
    startedAt = Date.now();
    timeoutMs = options.timeout || 0;
    const credential = await createPasskey(options);
    showStatus(status, "Checking your new passkey…");
    const result = await postJSON(endpoints.verify, credential);
    showStatus(status, "Your passkey is ready. Signing you in…", "success");
    window.location.assign(result.redirect);
  } catch (error) {
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs, creating: true }), "error");
    busy(button, false);
  }
});

// The handler is attached: enable the button. Rendered disabled, it cannot be clicked
// before this module has run, which would submit the form natively (a plain GET).
button.disabled = !passkeysSupported();
