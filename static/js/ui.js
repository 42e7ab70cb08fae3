// Small helpers for status messages announced to screen readers (aria-live regions).

export function showStatus(element, message, kind = "info") {
  element.textContent = message;
  element.dataset.kind = kind;
}

export function busy(button, isBusy) {
  button.disabled = isBusy;
  button.setAttribute("aria-busy", String(isBusy));
}
