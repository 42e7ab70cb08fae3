// Sign-up step 2: create the account's passkey after explicit, unticked opt-in on the
// notice shown above the box (its version and hash travel with the request).
import { pageData, postJSON } from "./api.js";
import { consentBody, requireTicked } from "./consent-notice.js";
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
  const ticked = requireTicked(consent, () =>
    showStatus(status, "Please tick the box to agree to passkey sign-in first, or choose the password option.", "error"),
  );
  if (!ticked) return;
  busy(button, true);
  showStatus(status, "Follow the prompt on your device…");
  let startedAt = 0;
  let timeoutMs = 0;
  try {
    const options = await postJSON(endpoints.options, consentBody(form));
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

// Rendered disabled, so a click before this module runs cannot submit the form natively.
button.disabled = !passkeysSupported();
