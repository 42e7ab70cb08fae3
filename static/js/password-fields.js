// Show/hide for password fields marked data-reveal. Paste always works (WCAG 2.2 SC 3.3.8).
import { message } from "./ui.js";

for (const input of document.querySelectorAll("input[data-reveal]")) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button reveal";
  button.textContent = message("showPassword");
  button.setAttribute("aria-controls", input.id);
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.textContent = message(show ? "hidePassword" : "showPassword");
    button.setAttribute("aria-pressed", String(show));
  });
  input.insertAdjacentElement("afterend", button);
}
