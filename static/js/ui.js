// Small helpers for what the page tells the person: status messages announced to screen
// readers (aria-live regions), and the words themselves, in the page's language.

/**
 * A message in the page's language: the server translates every message a script may
 * show and puts it in the page's data block (`messages`, authdemo/i18n.py), so no script
 * holds user-visible text of its own (docs/translating.md). `%(name)s` placeholders, as in
 * the catalogues, are filled from `values`. A key the page did not send is a bug, thrown.
 */
export function message(key, values = {}) {
  const element = document.getElementById("page-data");
  const messages = (element && JSON.parse(element.textContent).messages) || {};
  if (!Object.hasOwn(messages, key)) {
    throw new Error(`no message "${key}" in this page's data`);
  }
  return messages[key].replace(/%\((\w+)\)s/g, (placeholder, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : placeholder,
  );
}

export function showStatus(element, message, kind = "info") {
  element.textContent = message;
  element.dataset.kind = kind;
}

export function busy(button, isBusy) {
  button.disabled = isBusy;
  button.setAttribute("aria-busy", String(isBusy));
}
