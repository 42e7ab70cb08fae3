// Warn before a signed-in session times out and offer to stay (WCAG 2.2 SC 2.2.1 Timing
// Adjustable: warned, at least 20 seconds to act with one simple action). The server says
// how long is left when it renders the page (#session-timeout-data); any request the
// person makes slides the idle part (sessions.routes.keep_session_alive), never the
// absolute one. What a form on the page had typed is kept by keep-typed.js.

import { ProblemError, postJSON } from "./api.js";

/** How long before the end the warning opens. */
const WARN_BEFORE_MS = 2 * 60 * 1000;

const data = JSON.parse(document.getElementById("session-timeout-data").textContent);
const dialog = document.getElementById("timeout-warning");
const stay = document.getElementById("stay-signed-in");
const signIn = document.getElementById("timeout-sign-in");
const dismiss = document.getElementById("timeout-dismiss");
const texts = {
  soon: document.getElementById("timeout-soon"),
  final: document.getElementById("timeout-final"),
  ended: document.getElementById("timeout-ended"),
};
const timers = [];

function show(which) {
  for (const [name, element] of Object.entries(texts)) {
    element.hidden = name !== which;
  }
  stay.hidden = which !== "soon";
  signIn.hidden = which !== "ended";
  if (!dialog.open) {
    dialog.showModal();
  }
  (which === "soon" ? stay : which === "ended" ? signIn : dismiss).focus();
}

function schedule({ secondsLeft, extendable }) {
  timers.splice(0).forEach(clearTimeout);
  const endsAt = Date.now() + secondsLeft * 1000;
  const clockTime = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    hour: "numeric",
    minute: "2-digit",
  }).format(endsAt);
  for (const time of dialog.querySelectorAll("time.timeout-at")) {
    time.textContent = clockTime;
    time.dateTime = new Date(endsAt).toISOString();
  }
  const warnIn = Math.max(0, secondsLeft * 1000 - WARN_BEFORE_MS);
  timers.push(setTimeout(() => show(extendable ? "soon" : "final"), warnIn));
  timers.push(setTimeout(() => show("ended"), secondsLeft * 1000));
}

stay.addEventListener("click", async () => {
  stay.disabled = true;
  try {
    schedule(await postJSON(data.keepAliveUrl));
    dialog.close();
  } catch (error) {
    // 401: the session had already ended (another tab signed out, or the time passed).
    if (error instanceof ProblemError && error.status === 401) {
      show("ended");
    } else {
      throw error;
    }
  } finally {
    stay.disabled = false;
  }
});
dismiss.addEventListener("click", () => dialog.close());

schedule(data);
