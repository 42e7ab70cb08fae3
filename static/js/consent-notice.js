// The consent a passkey request carries: the person's explicit tick, and which notice
// the page showed (its version and the SHA-256 of its exact text, from the form's hidden
// fields). The server accepts only a notice it published, with that notice's own hash,
// so a page cannot claim agreement to words that were never shown.

/** The JSON body for /api/passkeys/sign-up/options and /api/passkeys/add/options. */
export function consentBody(form) {
  return {
    consent: true,
    notice_version: form.elements.notice_version.value,
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
