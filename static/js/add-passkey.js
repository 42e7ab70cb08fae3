// Add a passkey to a signed-in account (or during recovery), after explicit opt-in.
import { pageData, postJSON } from "./api.js";
import { createPasskey, explainCeremonyError } from "./webauthn.js";
import { busy, showStatus } from "./ui.js";

const form = document.getElementById("add-passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("add-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (consent && !consent.checked) {
    showStatus(status, "Please tick the box to agree to passkey sign-in first.", "error");
    consent.setAttribute("aria-invalid", "true");
    consent.focus();
    return;
  }
  busy(button, true);
  showStatus(status, "Follow the prompt on your device…");
  let startedAt = 0;
  let timeoutMs = 0;
  try {
    const options = await postJSON(endpoints.options, { consent: true });
    startedAt = Date.now();
    timeoutMs = options.timeout || 0;
    const credential = await createPasskey(options);
    const result = await postJSON(endpoints.verify, credential);
    showStatus(status, "Your new passkey is ready.", "success");
    window.location.assign(result.redirect);
  } catch (error) {
    if (error && error.problem && error.problem.stepUpUrl) {
      window.location.assign(error.problem.stepUpUrl);
      return;
    }
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs }), "error");
    busy(button, false);
  }
});
