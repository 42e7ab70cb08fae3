// The passkey management page: add another passkey (after explicit opt-in on the notice
// shown above the box), and send the Signal API calls the server queued (after a
// removal, the device drops that passkey). With passkey enrolment switched off the page
// has no form, and only the signals are left to send.
import { pageData, postJSON } from "./api.js";
import { consentBody, requireTicked } from "./consent-notice.js";
import { createPasskey, explainCeremonyError, passkeysSupported } from "./webauthn.js";
import { busy, showStatus } from "./ui.js";
import { sendPageSignals } from "./signal.js";

const form = document.getElementById("add-passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("add-passkey");
const status = document.getElementById("status");
const { endpoints, afterAdd, stepUp } = pageData();

sendPageSignals();

if (form && !passkeysSupported()) {
  showStatus(status, "This browser can't create passkeys. You can add one from another device.", "error");
}

form?.addEventListener("submit", async (event) => {
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
    // The server sends excludeCredentials: a device that already holds one of this
    // account's passkeys refuses to make another (InvalidStateError, explained below).
    const options = await postJSON(endpoints.options, consentBody(form));
    startedAt = Date.now();
    timeoutMs = options.timeout || 0;
    const credential = await createPasskey(options);
    showStatus(status, "Checking your new passkey…");
    await postJSON(endpoints.verify, credential);
    showStatus(status, "Your new passkey is ready.", "success");
    window.location.assign(afterAdd);
  } catch (error) {
    if (error && error.problem && error.problem.stepUpUrl) {
      // Adding a way in needs a fresh sign-in (step-up); come back here afterwards.
      window.location.assign(stepUp);
      return;
    }
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs, creating: true }), "error");
    busy(button, false);
  }
});

// The handler is attached: enable the button (rendered disabled, it would do nothing).
if (button) button.disabled = !passkeysSupported();
