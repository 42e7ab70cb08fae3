// Passkey ceremonies in the browser. Uses the browser's own JSON helpers
// (PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON /
// credential.toJSON()) where they exist, with a small fallback for older browsers.
import { postJSON } from "./api.js";
import { message } from "./ui.js";

const b64urlToBuffer = (value) => {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
};

const bufferToB64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

const withIds = (list = []) => list.map((c) => ({ ...c, id: b64urlToBuffer(c.id) }));

function parseCreationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: b64urlToBuffer(json.challenge),
    user: { ...json.user, id: b64urlToBuffer(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

function parseRequestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: b64urlToBuffer(json.challenge),
    allowCredentials: withIds(json.allowCredentials),
  };
}

/** The RegistrationResponseJSON / AuthenticationResponseJSON of WebAuthn L3 §5.1. */
function credentialToJSON(credential) {
  if (typeof credential.toJSON === "function") {
    return credential.toJSON();
  }
  const r = credential.response;
  const response = { clientDataJSON: bufferToB64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bufferToB64url(r.attestationObject);
    response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    response.authenticatorData = bufferToB64url(r.authenticatorData);
    response.signature = bufferToB64url(r.signature);
    if (r.userHandle) response.userHandle = bufferToB64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: bufferToB64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
  };
}

export const passkeysSupported = () =>
  typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

/** The DOMException names a ceremony can end with: the server's list
 * (authdemo/pilot/signals.py ERROR_NAMES), which it accepts alone; a test keeps the two
 * equal (tests/functional/test_pilot_signals.py). */
const REPORTED_ERRORS = new Set([
  "AbortError",
  "ConstraintError",
  "InvalidStateError",
  "NotAllowedError",
  "NotSupportedError",
  "SecurityError",
  "TimeoutError",
  "UnknownError",
]);

/**
 * Tell the server a ceremony ended with a browser error: the ceremony and the error's
 * name, never its message (it can name a device or an account). A guardrail signal for
 * the passkey pilot (docs/rollout.md); it never delays or changes what the person sees.
 * A ceremony this page stopped itself (signal aborted) is not a problem.
 */
function reportProblem(ceremony, error, signal) {
  if (!ceremony || (signal && signal.aborted)) return;
  if (!(error instanceof DOMException) || !REPORTED_ERRORS.has(error.name)) return;
  postJSON("/api/passkeys/problems", { ceremony, error: error.name }).catch(() => {});
}

/** ceremony: "sign_up" or "add" (reported if the browser ends it with an error). */
export async function createPasskey(optionsJSON, { signal, ceremony } = {}) {
  const publicKey = parseCreationOptions(optionsJSON);
  let credential;
  try {
    credential = await navigator.credentials.create({ publicKey, signal });
  } catch (error) {
    reportProblem(ceremony, error, signal);
    throw error;
  }
  return credentialToJSON(credential);
}

/** ceremony: "sign_in" or "step_up". Passkey autofill (mediation "conditional") is never
 * reported: dismissing the list is not a failure. */
export async function getPasskey(optionsJSON, { signal, mediation, ceremony } = {}) {
  const publicKey = parseRequestOptions(optionsJSON);
  const request = { publicKey, signal };
  if (mediation) request.mediation = mediation;
  let credential;
  try {
    credential = await navigator.credentials.get(request);
  } catch (error) {
    if (!mediation) reportProblem(ceremony, error, signal);
    throw error;
  }
  return credentialToJSON(credential);
}

/**
 * A plain-language message for a failed ceremony, in the page's language (the page sends
 * them: authdemo.passkeys.routes.CEREMONY_MESSAGES). Browsers deliberately report
 * "cancelled", "timed out" and "no passkey on this device" all as NotAllowedError
 * (so sites cannot probe for passkeys); we tell them apart only by elapsed time.
 */
export function explainCeremonyError(error, { startedAt, timeoutMs, creating = false } = {}) {
  const elapsed = startedAt ? Date.now() - startedAt : 0;
  switch (error && error.name) {
    case "NotAllowedError":
      if (timeoutMs && elapsed >= timeoutMs - 1000) {
        return message("ceremonyTimedOut");
      }
      if (creating) {
        // Creating a passkey: cancelled or the device's check failed; nothing to "find".
        return message("ceremonyNotCreated");
      }
      return message("ceremonyNotFound");
    case "AbortError":
      return message("ceremonyStopped");
    case "InvalidStateError":
      return message("ceremonyAlreadyOnDevice");
    case "SecurityError":
      return message("ceremonyWrongAddress");
    case "NotSupportedError":
      return message("ceremonyUnsupported");
    case "ProblemError":
      return error.message;
    default:
      return error && error.problem ? error.message : message("ceremonyFailed");
  }
}
