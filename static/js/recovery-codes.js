// Copy or download the recovery codes shown once after they are made.
import { pageData } from "./api.js";
import { message, showStatus } from "./ui.js";

const { recoveryCodes = [], site = location.hostname, username = "" } = pageData();
const status = document.getElementById("codes-status");
const account = username ? message("codesAccount", { username, site }) : site;
const title = message("codesFileTitle", { account, host: location.host });
const text = `${title}\n\n${recoveryCodes.join("\n")}\n`;

/** A file-name-safe form of a name: lower case, anything else than a-z 0-9 . _ - as "-". */
function fileSafe(name) {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
}

const fileName = ["recovery-codes", fileSafe(site) || fileSafe(location.hostname), fileSafe(username)]
  .filter(Boolean)
  .join("-") + ".txt";

document.getElementById("copy-codes")?.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(text);
    showStatus(status, message("codesCopied"), "success");
  } catch {
    showStatus(status, message("codesNotCopied"), "error");
  }
});

document.getElementById("download-codes")?.addEventListener("click", () => {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const link = Object.assign(document.createElement("a"), {
    href: url,
    download: fileName,
  });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
  showStatus(status, message("codesDownloaded"), "success");
});
