// The passkey management page: add another passkey (after explicit opt-in on the notice
// shown above the box), and send the Signal API calls the server queued (after a
// removal, the device drops that passkey). With passkey enrolment switched off the page
// has no form, and only the signals are left to send.
import { pageData } from "./api.js";
import { createPasskeyOnSubmit } from "./consent-notice.js";
import { message } from "./ui.js";
import { sendPageSignals } from "./signal.js";

const form = document.getElementById("add-passkey-form");
const consent = document.getElementById("passkey-consent");
const button = document.getElementById("add-passkey");
const status = document.getElementById("status");
const { endpoints, afterAdd, stepUp } = pageData();

sendPageSignals();

// The server sends excludeCredentials: a device that already holds one of this
// account's passkeys refuses to make another (InvalidStateError, explained on failure).
if (form) {
  createPasskeyOnSubmit({
    form,
    consent,
    button,
    status,
    endpoints,
    messages: {
      unsupported: message("passkeysCannotCreateHere"),
      missing: message("consentTickFirst"),
      checking: message("passkeyChecking"),
      success: message("passkeyAdded"),
    },
    destination: () => afterAdd,
    // Adding a way in needs a fresh sign-in (step-up); come back here afterwards.
    stepUp: () => stepUp,
  });
}
