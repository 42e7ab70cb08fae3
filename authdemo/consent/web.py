"""Request-level consent glue, used by the passkey routes, the sign-up pages and templates.

- ``notice_book()``: the running app's notices (tests may publish a new version).
- ``availability()`` / ``require_enrolment()`` / ``require_signin()``: kill switches and
  jurisdiction for this request, refused with a clear 403 ``FeatureDisabled``.
- ``consent_from_json()`` / ``notice_from_form()``: the decision a page sends, checked.
- The sign-up decision: at sign-up the account does not exist yet, so the choice made on
  the opt-in screen waits in the signed cookie session and is written to the ledger in
  the transaction that creates the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app, g, request
from flask import session as cookie
from sqlalchemy.orm import Session

from authdemo import current
from authdemo.consent import facts, rollout, service
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, Notice, NoticeBook
from authdemo.consent.rollout import Availability
from authdemo.consent.service import Action, ConsentNotGiven, UnknownNotice
from authdemo.errors import FeatureDisabled
from authdemo.models import User

NOTICES_EXTENSION = "authdemo.notices"
#: Cookie-session key of a sign-up decision waiting for its account.
SIGNUP_DECISION_KEY = "consent_signup"
#: Fields a passkey options request may carry.
JSON_FIELDS = frozenset({"consent", "notice_version", "notice_sha256"})


def notice_book() -> NoticeBook:
    book: NoticeBook = current_app.extensions.get(NOTICES_EXTENSION, NOTICES)
    return book


def current_notice() -> Notice:
    return notice_book().current(PASSKEY_SIGNIN)


def current_facts() -> facts.DeploymentFacts:
    """The deployment-facts block shown beside every notice (from configuration)."""
    return facts.from_settings(current.settings())


# --- kill switches and jurisdiction --------------------------------------------------


def availability() -> Availability:
    """Passkeys for this request (cached per request)."""
    cached: Availability | None = g.get("passkey_availability")
    if cached is None:
        settings = current.settings()
        country = request.headers.get(settings.COUNTRY_HEADER) if settings.COUNTRY_HEADER else None
        cached = rollout.availability(settings, country=country)
        g.passkey_availability = cached
    return cached


def require_enrolment() -> None:
    state = availability()
    if not state.enrolment:
        raise FeatureDisabled(state.enrolment_reason)


def require_signin() -> None:
    state = availability()
    if not state.signin:
        raise FeatureDisabled(state.signin_reason)


# --- what the page sent ----------------------------------------------------------------


def consent_from_json(body: Mapping[str, Any]) -> Notice:
    """``{"consent": true, "notice_version": ..., "notice_sha256": ...}``: the explicit
    tick (GDPR Art 4(11): "clear affirmative action") and the notice it was given on."""
    service.reject_unexpected(body.keys(), JSON_FIELDS)
    if body.get("consent") is not True:
        raise ConsentNotGiven()
    return service.shown_notice(
        notice_book(), version=body.get("notice_version"), sha256=body.get("notice_sha256")
    )


def notice_from_form(form: Mapping[str, Any], *, current_only: bool = True) -> Notice:
    return service.shown_notice(
        notice_book(),
        version=form.get("notice_version"),
        sha256=form.get("notice_sha256"),
        current_only=current_only,
    )


# --- the decision made on the sign-up screen ---------------------------------------------


def remember_signup_decision(
    action: Action, notice: Notice, *, method: str, username: str, now: datetime
) -> None:
    """Keep the choice until the account exists (signed cookie: it cannot be forged)."""
    cookie[SIGNUP_DECISION_KEY] = {
        "action": str(action),
        "version": notice.version,
        "facts": current_facts().sha256,
        "method": method,
        "username": username,
        "at": now.isoformat(),
    }


def pending_signup_decision(action: Action, *, username: str) -> dict[str, Any] | None:
    decision = cookie.get(SIGNUP_DECISION_KEY)
    if (
        isinstance(decision, dict)
        and decision.get("action") == str(action)
        and decision.get("username") == username
    ):
        return decision
    return None


def record_signup_decision(session: Session, decision: Mapping[str, Any], *, user_id: str) -> None:
    """Write a sign-up decision for the account just created (in its transaction)."""
    notice = notice_book().get(PASSKEY_SIGNIN, str(decision.get("version")))
    if notice is None:
        raise UnknownNotice()
    service.record(
        session,
        user_id=user_id,
        action=Action(decision["action"]),
        notice=notice,
        # A decision remembered before this field existed: the facts shown now.
        facts_sha256=str(decision.get("facts") or current_facts().sha256),
        method=str(decision["method"]),
        now=datetime.fromisoformat(str(decision["at"])),
    )


def record_signup_grant(session: Session, *, user_id: str, username: str) -> None:
    """Passkey sign-up: the consent given on the opt-in screen, for the new account."""
    decision = pending_signup_decision(Action.GRANTED, username=username)
    if decision is None:
        raise ConsentNotGiven()
    record_signup_decision(session, decision, user_id=user_id)
    cookie.pop(SIGNUP_DECISION_KEY, None)


def record_signup_decline_for(session: Session, user: User) -> bool:
    """Password + code sign-up after "No thanks": record the decline for the new account.

    Only for an account created after the decision, under the username it was made for,
    with no ledger history yet; anything else (another account signing in in this
    browser) is left alone. Returns True if recorded."""
    decision = g.get("consent_signup_decision")
    if not isinstance(decision, dict) or decision.get("action") != str(Action.DECLINED):
        return False
    if decision.get("username") != user.username:
        return False
    if user.created_at < datetime.fromisoformat(str(decision["at"])):
        return False
    if service.latest(session, user.id) is not None:
        return False
    record_signup_decision(session, decision, user_id=user.id)
    return True
