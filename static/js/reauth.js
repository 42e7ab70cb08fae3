// Step-up with a passkey of this same account (the options list only its passkeys).
import { pageData, postJSON } from "./api.js";
import { explainCeremonyError, getPasskey } from "./webauthn.js";
import { busy, message, showStatus } from "./ui.js";

const button = document.getElementById("reauth-passkey");
const status = document.getElementById("status");
const { endpoints, next } = pageData();

button?.addEventListener("click", async () => {
  busy(button, true);
  showStatus(status, message("followPrompt"));
  let startedAt = 0;
  let timeoutMs = 0;
  try {
    const options = await postJSON(endpoints.options, {});
    startedAt = Date.now();
    timeoutMs = options.timeout || 0;
    const credential = await getPasskey(options, { ceremony: "step_up" });
    const result = await postJSON(endpoints.verify, { ...credential, next });
    window.location.assign(result.redirect);
  } catch (error) {
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs }), "error");
    busy(button, false);
  }
});
