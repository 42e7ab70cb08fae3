// The WebAuthn Signal API (WebAuthn L3 §5.1.10): tell the person's passkey provider
// what the server knows, so the device stops offering passkeys we no longer accept and
// shows the current username. Feature-detected: browsers without it just skip the call.
//
// The calls are hints to the provider; a failure must never get in the person's way,
// so every helper resolves (true if the browser took the signal) and never throws.
import { pageData } from "./api.js";

const METHODS = [
  "signalUnknownCredential",
  "signalAllAcceptedCredentials",
  "signalCurrentUserDetails",
];

/** True if this browser has PublicKeyCredential[method]. */
export function signalSupported(method) {
  return (
    METHODS.includes(method) &&
    typeof window.PublicKeyCredential === "function" &&
    typeof window.PublicKeyCredential[method] === "function"
  );
}

/**
 * Send one signal. A provider may take a while (or never answer); waiting is capped so
 * a sign-in or a page never hangs on it.
 */
export async function sendSignal(method, options, { maxWaitMs = 1500 } = {}) {
  if (!options || !signalSupported(method)) return false;
  const call = window.PublicKeyCredential[method](options).then(
    () => true,
    () => false,
  );
  const timeout = new Promise((resolve) => setTimeout(() => resolve(false), maxWaitMs));
  return Promise.race([call, timeout]);
}

/** After a sign-in or a removal: these are all the passkeys the account has now. */
export const signalAllAcceptedCredentials = (options) =>
  sendSignal("signalAllAcceptedCredentials", options);

/** The server has never heard of (or has removed) the passkey the person just used. */
export const signalUnknownCredential = (options) =>
  sendSignal("signalUnknownCredential", options);

/** After a username or display-name change: show the new one in the passkey picker. */
export const signalCurrentUserDetails = (options) =>
  sendSignal("signalCurrentUserDetails", options);

/**
 * Send the signals a server-rendered page asks for in its data block:
 * `{"signals": [{"method": "signalAllAcceptedCredentials", "options": {...}}, ...]}`.
 * The server puts them there once, after the change that calls for them.
 */
export async function sendPageSignals() {
  const { signals = [] } = pageData();
  const results = [];
  for (const { method, options } of signals) {
    results.push(await sendSignal(method, options));
  }
  document.documentElement.dataset.signalsSent = String(results.length);
  return results;
}
