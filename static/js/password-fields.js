// Show/hide for password fields marked data-reveal. Paste always works (WCAG 2.2 SC 3.3.8).
for (const input of document.querySelectorAll("input[data-reveal]")) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button reveal";
  button.textContent = "Show password";
  button.setAttribute("aria-controls", input.id);
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.textContent = show ? "Hide password" : "Show password";
    button.setAttribute("aria-pressed", String(show));
  });
  input.insertAdjacentElement("afterend", button);
}
