// The consent a passkey request carries: the person's explicit tick, and which notice
// the page showed (its version, its language and the SHA-256 of its exact text, from the
// form's hidden fields). The server accepts only a notice it published, with that notice's own hash,
// so a page cannot claim agreement to words that were never shown.
import { postJSON } from "./api.js";
import { createPasskey, explainCeremonyError, passkeysSupported } from "./webauthn.js";
import { busy, message, showStatus } from "./ui.js";

/**
 * The JSON body for /api/passkeys/sign-up/options and /api/passkeys/add/options. A form
 * without the box (the one-line reminder of a notice already agreed to) sends nothing:
 * no new decision, and the server checks that the earlier one stands.
 */
export function consentBody(form) {
  if (!form.elements.notice_version) return {};
  return {
    consent: true,
    notice_version: form.elements.notice_version.value,
    notice_language: form.elements.notice_language.value,
    notice_sha256: form.elements.notice_sha256.value,
  };
}

/** Explicit opt-in: an unticked box that the person ticked. Says so and refocuses if not. */
export function requireTicked(checkbox, onMissing) {
  const hint = checkbox.getAttribute("aria-describedby") || "";
  const ids = hint.split(" ").filter((id) => id && id !== "status");
  if (checkbox.checked) {
    checkbox.removeAttribute("aria-invalid");
    checkbox.setAttribute("aria-describedby", ids.join(" "));
    return true;
  }
  onMissing();
  // The message is in #status: tie it to the box so it is read with it.
  checkbox.setAttribute("aria-invalid", "true");
  checkbox.setAttribute("aria-describedby", [...ids, "status"].join(" "));
  checkbox.focus();
  return false;
}

/**
 * The opt-in form's submit: require the tick, send the consent to endpoints.options,
 * create the passkey, send it to endpoints.verify, then go to destination(result)
 * (default: the server's redirect). messages: { unsupported, missing, success, checking? }
 * (words from the page's data block, ui.js message()): unsupported is shown at once in a
 * browser without passkeys, checking, if given, while the server verifies. stepUp(problem),
 * if given, says where to go when the server asks for a fresh sign-in; without it, that
 * error is explained like any other. The button is rendered disabled, so a click before
 * this module runs cannot submit the form natively; it is enabled once the handler is
 * attached, where passkeys can be created.
 */
export function createPasskeyOnSubmit({ form, consent, button, status, endpoints, messages, destination, stepUp }) {
  if (!passkeysSupported()) showStatus(status, messages.unsupported, "error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (consent && !requireTicked(consent, () => showStatus(status, messages.missing, "error"))) return;
    busy(button, true);
    showStatus(status, message("followPrompt"));
    let startedAt = 0;
    let timeoutMs = 0;
    try {
      const options = await postJSON(endpoints.options, consentBody(form));
      startedAt = Date.now();
      timeoutMs = options.timeout || 0;
      const ceremony = endpoints.options.includes("sign-up") ? "sign_up" : "add";
      const credential = await createPasskey(options, { ceremony });
      if (messages.checking) showStatus(status, messages.checking);
      const result = await postJSON(endpoints.verify, credential);
      showStatus(status, messages.success, "success");
      window.location.assign(destination ? destination(result) : result.redirect);
    } catch (error) {
      if (stepUp && error && error.problem && error.problem.stepUpUrl) {
        window.location.assign(stepUp(error.problem));
        return;
      }
      showStatus(status, explainCeremonyError(error, { startedAt, timeoutMs, creating: true }), "error");
      busy(button, false);
    }
  });
  button.disabled = !passkeysSupported();
}
