// Copy the authenticator app's set-up key, for people who add it by hand or on this
// device. The key is shown in groups of four to read; it is copied without the spaces.
import { message, showStatus } from "./ui.js";

const key = document.getElementById("totp-key");
const status = document.getElementById("key-status");

document.getElementById("copy-key")?.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText((key?.textContent ?? "").replace(/\s+/g, ""));
    showStatus(status, message("keyCopied"), "success");
  } catch {
    showStatus(status, message("keyNotCopied"), "error");
  }
});
