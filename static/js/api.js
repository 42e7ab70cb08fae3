// Talking to the server: JSON in, JSON or RFC 9457 problem+json out, CSRF header always.

/** The page's data block (<script type="application/json" id="page-data">). */
export function pageData() {
  const element = document.getElementById("page-data");
  return element ? JSON.parse(element.textContent) : {};
}

export class ProblemError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || "The request failed.");
    this.name = "ProblemError";
    this.problem = problem;
    this.status = status;
  }
}

/** POST a JSON body; resolve with the JSON answer or reject with a ProblemError. */
export async function postJSON(url, body = {}) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": pageData().csrfToken,
    },
    body: JSON.stringify(body),
  });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : {};
  if (!response.ok) {
    throw new ProblemError(data, response.status);
  }
  return data;
}
