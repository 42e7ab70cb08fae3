// Talking to the server: JSON in, JSON or RFC 9457 problem+json out, CSRF header always.

import { message } from "./ui.js";

/** The page's data block (<script type="application/json" id="page-data">). */
export function pageData() {
  const element = document.getElementById("page-data");
  return element ? JSON.parse(element.textContent) : {};
}

export class ProblemError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || message("requestFailed"));
    this.name = "ProblemError";
    this.problem = problem;
    this.status = status;
  }
}

/** POST a JSON body; resolve with the JSON answer or reject with a ProblemError. */
export async function postJSON(url, body = {}) {
  let response;
  try {
    response = await send(url, body);
  } catch (error) {
    // fetch rejects only when no answer came (offline, connection lost); its own message
    // is the browser's, in the browser's language.
    if (!(error instanceof TypeError)) throw error;
    throw new ProblemError({ title: message("noConnection") }, 0);
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : {};
  if (!response.ok) {
    throw new ProblemError(data, response.status);
  }
  return data;
}

function send(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": pageData().csrfToken,
    },
    body: JSON.stringify(body),
  });
}
