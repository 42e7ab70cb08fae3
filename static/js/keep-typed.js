// Keep what a person typed into a form across a time-out or a "Confirm it's you" step
// (WCAG 2.2 SC 2.2.5 Re-authenticating): a form marked data-keep-typed saves its text
// fields in this tab's sessionStorage when sent; the pages on the way back in (sign-in,
// step-up) keep the entry; the first page after the sign-in or step-up fills the same
// form in again, only for the same person (an "owner" tag from the server); any other
// page drops it. Passwords, codes and checkboxes are never kept
// (a consent box must be ticked again, by the person).

const KEY = "authdemo.typed";
const NEVER_TYPES = new Set(["password", "hidden", "file", "checkbox", "radio", "submit", "button"]);
const NEVER_AUTOCOMPLETE = /one-time-code|current-password|new-password/;

const { hold = false, restore = false, owner = "", message = "" } = JSON.parse(
  document.getElementById("typed-data").textContent,
);

function keepable(field) {
  if (!field.name || field.disabled || field.dataset.keepTyped === "no") {
    return false;
  }
  if (field instanceof HTMLTextAreaElement) {
    return true;
  }
  return (
    field instanceof HTMLInputElement &&
    !NEVER_TYPES.has(field.type) &&
    !NEVER_AUTOCOMPLETE.test(field.autocomplete)
  );
}

function save(form) {
  const fields = {};
  for (const field of form.elements) {
    if (keepable(field)) {
      fields[field.name] = field.value;
    }
  }
  const entry = { owner, page: location.pathname, action: form.getAttribute("action"), fields };
  sessionStorage.setItem(KEY, JSON.stringify(entry));
}

function fillIn(entry) {
  const form = [...document.querySelectorAll("form[data-keep-typed]")].find(
    (candidate) => candidate.getAttribute("action") === entry.action,
  );
  // Only into the same person's form, on the page it was typed on.
  if (!form || !owner || entry.owner !== owner || location.pathname !== entry.page) {
    return;
  }
  for (const field of form.elements) {
    if (keepable(field) && Object.hasOwn(entry.fields, field.name)) {
      field.value = entry.fields[field.name];
    }
  }
  const note = document.createElement("p");
  note.className = "notice";
  note.setAttribute("role", "status");
  note.id = "typed-restored";
  note.textContent = message;
  form.prepend(note);
}

const saved = sessionStorage.getItem(KEY);
if (saved && !hold) {
  sessionStorage.removeItem(KEY);
  if (restore) {
    try {
      fillIn(JSON.parse(saved));
    } catch {
      // An entry this script did not write: nothing to fill in.
    }
  }
}

document.addEventListener("submit", (event) => {
  if (event.target instanceof HTMLFormElement && event.target.matches("form[data-keep-typed]")) {
    save(event.target);
  }
});
