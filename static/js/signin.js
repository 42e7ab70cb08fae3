// Usernameless passkey sign-in: the server learns who you are only from the passkey.
import { pageData, postJSON } from "./api.js";
import { explainCeremonyError, getPasskey, passkeysSupported } from "./webauthn.js";
import { busy, showStatus } from "./ui.js";

const button = document.getElementById("signin-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

if (!passkeysSupported()) {
  showStatus(status, "This browser can't use passkeys. Please use another way to sign in.", "error");
}

button.addEventListener("click", async () => {
  busy(button, true);
  showStatus(status, "Follow the prompt on your device…");
  let startedAt = 0;
  let timeoutMs = 0;
  try {
    const options = await postJSON(endpoints.options, {});
    startedAt = Date.now();
    timeoutMs = options.timeout || 0;
    const credential = await getPasskey(options);
    const result = await postJSON(endpoints.verify, credential);
    showStatus(status, "Signed in. Taking you to your account…", "success");
    window.location.assign(result.redirect);
  } catch (error) {
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs }), "error");
    busy(button, false);
  }
});

// The handler is attached: enable the button. Rendered disabled, it cannot be clicked
// before this module has run, which would do nothing.
button.disabled = !passkeysSupported();
