// Usernameless passkey sign-in: the server learns who you are only from the passkey.
//
// Two ways to start it: the "Sign in with a passkey" button (a modal request), and
// passkey autofill (conditional mediation, WebAuthn L3 §5.1.4 and Credential Management
// "conditional"): the browser offers the site's passkeys in the username field's
// autofill list (autocomplete="username webauthn"). Only one request may be pending at a
// time, so the button and the password form abort the autofill request first; that abort
// is the person's own choice and is never shown as an error.
//
// The autofill request starts when the person first goes to the username field, not on
// page load: a visit that never touches the field costs no server-side challenge, and
// Chromium waits for the page's request before it fills a `webauthn` field's list.
import { pageData, postJSON } from "./api.js";
import { explainCeremonyError, getPasskey, passkeysSupported } from "./webauthn.js";
import { busy, message, showStatus } from "./ui.js";
import { signalAllAcceptedCredentials, signalUnknownCredential } from "./signal.js";

const button = document.getElementById("signin-passkey");
const status = document.getElementById("status");
const passwordForm = document.getElementById("password-form");
const usernameField = document.getElementById("username");
const { endpoints } = pageData();

if (!passkeysSupported()) {
  showStatus(status, message("passkeysUnsupported"), "error");
}

/** Verify the assertion, tell the device which passkeys the account still has, go on. */
async function finishSignIn(credential) {
  const result = await postJSON(endpoints.verify, credential);
  showStatus(status, message("signedIn"), "success");
  // Stale passkeys of this account disappear from the device (Signal API).
  await signalAllAcceptedCredentials(result.signal);
  window.location.assign(result.redirect);
}

/** A refused passkey the server does not know: the device may stop offering it. */
async function forgetUnknownPasskey(error) {
  if (error && error.problem && error.problem.signal) {
    await signalUnknownCredential(error.problem.signal);
  }
}

// --- passkey autofill ------------------------------------------------------------------

const autofill = { controller: null, task: null, chosen: false };

async function conditionalMediationAvailable() {
  return (
    passkeysSupported() &&
    typeof PublicKeyCredential.isConditionalMediationAvailable === "function" &&
    (await PublicKeyCredential.isConditionalMediationAvailable().catch(() => false))
  );
}

async function runAutofill(controller) {
  try {
    if (!(await conditionalMediationAvailable()) || controller.signal.aborted) return;
    document.documentElement.dataset.autofill = "started";
    const options = await postJSON(endpoints.options, {});
    if (controller.signal.aborted) return;
    const credential = await getPasskey(options, {
      signal: controller.signal,
      mediation: "conditional",
    });
    // A passkey was chosen from the list: sign-in is under way; nothing else may start.
    autofill.chosen = true;
    busy(button, true);
    await finishSignIn(credential);
  } catch (error) {
    if (controller.signal.aborted) return; // the person chose the button or a password
    autofill.chosen = false;
    busy(button, false);
    // Offer autofill again the next time the person comes back to the username field.
    usernameField?.addEventListener("focus", startAutofill, { once: true });
    // Autofill dismissed, or nothing to offer: not worth a message.
    if (error && error.name === "NotAllowedError") return;
    await forgetUnknownPasskey(error);
    showStatus(status, explainCeremonyError(error), "error");
  }
}

function startAutofill() {
  if (autofill.controller) return;
  // Claimed at once (before any await), so a click that comes in between still finds
  // the request and stops it.
  const controller = new AbortController();
  autofill.controller = controller;
  autofill.task = runAutofill(controller).finally(() => {
    if (autofill.controller === controller) autofill.controller = null;
  });
}

/** Abort a pending autofill request and wait until it has let go (its options request
 * may still be in flight, and would otherwise replace the button's ceremony). */
async function stopAutofill() {
  const { controller, task } = autofill;
  if (!controller) return;
  controller.abort();
  autofill.controller = null;
  await task;
  document.documentElement.dataset.autofill = "aborted";
}

// --- the button and the password form ------------------------------------------------

button.addEventListener("click", async () => {
  busy(button, true);
  showStatus(status, message("followPrompt"));
  await stopAutofill();
  let startedAt = 0;
  let timeoutMs = 0;
  try {
    const options = await postJSON(endpoints.options, {});
    startedAt = Date.now();
    timeoutMs = options.timeout || 0;
    const credential = await getPasskey(options, { ceremony: "sign_in" });
    await finishSignIn(credential);
  } catch (error) {
    await forgetUnknownPasskey(error);
    showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs }), "error");
    busy(button, false);
  }
});

// Signing in with a password: the autofill request is no longer wanted. If it is still
// under way, let it finish letting go before the form is sent: its answer would carry
// the old cookie session and could overwrite the signed-in one. Without this script the
// form submits as usual.
passwordForm?.addEventListener("submit", (event) => {
  if (autofill.chosen) {
    event.preventDefault(); // already signing in with the passkey chosen from autofill
    return;
  }
  if (!autofill.controller) return;
  event.preventDefault();
  stopAutofill().finally(() => passwordForm.submit());
});

// The handler is attached: enable the button. Rendered disabled, it cannot be clicked
// before this module has run, which would do nothing.
button.disabled = !passkeysSupported();

usernameField?.addEventListener("focus", startAutofill, { once: true });
if (usernameField && document.activeElement === usernameField) startAutofill();
