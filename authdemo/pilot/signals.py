"""Passkey ceremonies the browser cancelled or failed, as the page's script reports them
(issue 20 item 3; docs/decisions/0022-pilot-and-guardrails.md).

A WebAuthn ceremony that the browser ends with an error never reaches the server: without
a report, a pilot where people keep pressing "Cancel" looks like a quiet one. The page
posts the ceremony and the error's *name* (a DOMException name from a fixed list, never
its message, which can carry a device or account detail), and nothing else. The report
is counted on /metrics and kept as one audit row *without an account* (so the guardrail
evaluator, which reads the database, can count it): it says nothing about who sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from authdemo import audit
from authdemo.audit import Event
from authdemo.errors import InvalidInput
from authdemo.operations import metrics

#: The ceremonies a page runs (each page's script names its own).
CEREMONIES = ("sign_in", "sign_up", "add", "step_up")

#: The DOMException names a WebAuthn ceremony can end with (WebAuthn L3 §5.1.3 and
#: §5.1.4, the create() and get() algorithms; Credential Management Level 1 for
#: AbortError; WebIDL for the rest). NotAllowedError also covers "cancelled",
#: "timed out" and "no passkey here": browsers do not tell them apart, on purpose.
#: The one list: /openapi.json is filled in from it, and static/js/webauthn.js, which
#: cannot import it, keeps a copy that tests/functional/test_pilot_signals.py holds equal.
ERROR_NAMES = (
    "AbortError",
    "ConstraintError",
    "InvalidStateError",
    "NotAllowedError",
    "NotSupportedError",
    "SecurityError",
    "TimeoutError",
    "UnknownError",
)


@dataclass(frozen=True, slots=True)
class CeremonyProblem:
    ceremony: str
    error: str


def parse_problem(body: Mapping[str, object]) -> CeremonyProblem:
    """Exactly ``{"ceremony": ..., "error": ...}`` with values from the fixed lists; a
    refusal says why in the request's language."""
    if set(body) != {"ceremony", "error"}:
        raise InvalidInput(_('Send exactly "ceremony" and "error".'))
    ceremony, error = body["ceremony"], body["error"]
    if not isinstance(ceremony, str) or ceremony not in CEREMONIES:
        raise InvalidInput(_("Unknown ceremony."), field="ceremony")
    if not isinstance(error, str) or error not in ERROR_NAMES:
        raise InvalidInput(_("Unknown error name."), field="error")
    return CeremonyProblem(ceremony, error)


def record_problem(session: Session, problem: CeremonyProblem, *, now: datetime) -> None:
    """One use case: an audit row with no account (the caller commits); the caller counts
    it on /metrics after the commit (:func:`observe`)."""
    audit.record(
        session,
        Event.PASSKEY_CEREMONY_PROBLEM,
        now=now,
        method="passkey",
        purpose=problem.ceremony,
        reason=problem.error,
    )


def observe(problem: CeremonyProblem) -> None:
    metrics.observe_ceremony_problem(problem.ceremony, problem.error)
