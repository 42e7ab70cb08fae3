// Opt in to passkeys later, from a signed-in account: tick the box under the notice,
// confirm it's you if asked (step-up), then create the passkey.
import { pageData } from "./api.js";
import { createPasskeyOnSubmit } from "./consent-notice.js";
import { message } from "./ui.js";

const form = document.getElementById("add-passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("add-passkey");
const status = document.getElementById("status");
const { endpoints } = pageData();

createPasskeyOnSubmit({
  form,
  consent,
  button,
  status,
  endpoints,
  messages: {
    unsupported: message("passkeysCannotBeUsed"),
    missing: message("consentTickFirst"),
    success: message("passkeyAdded"),
  },
  // Adding a way in needs a fresh "confirm it's you"; come back here afterwards.
  stepUp: (problem) => endpoints.reauth || problem.stepUpUrl,
});
