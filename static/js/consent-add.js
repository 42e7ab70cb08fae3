// Opt in to passkeys later, from a signed-in account: tick the box under the notice,
// confirm it's you if asked (step-up), then create the passkey.
import { pageData, postJSON } from "./api.js";
import { consentBody, requireTicked } from "./consent-notice.js";
import { createPasskey, explainCeremonyError, passkeysSupported } from "./webauthn.js";
import { busy, showStatus } from "./ui.js";

const form = document.getElementById("add-passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("add-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

if (!passkeysSupported()) {
  showStatus(status, "This browser can't use passkeys. Your password and one-time code still work.", "error");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const ticked = requireTicked(consent, () =>
    showStatus(status, "Please tick the box to agree to passkey sign-in first.", "error"),
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
    const result = await postJSON(endpoints.verify, credential);
    showStatus(status, "Your new passkey is ready.", "success");
    window.location.assign(result.redirect);
  } catch (error) {
    if (error && error.problem && error.problem.stepUpUrl) {
      // Adding a way in needs a fresh "confirm it's you"; come back here afterwards.
      window.location.assign(endpoints.reauth || error.problem.stepUpUrl);
      return;
    }
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs, creating: true }), "error");
    busy(button, false);
  }
});

button.disabled = !passkeysSupported();
