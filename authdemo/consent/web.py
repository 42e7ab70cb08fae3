"""Request-level consent glue, used by the passkey routes, the sign-up pages and templates.

- ``notice_book()``: the running app's notices (tests may publish a new version).
- ``page_language()``, ``current_notice()``, ``facts_beside()``: the notice in the language
  of the page (``authdemo.i18n``), or its English text when it has none in that language,
  and the deployment facts in the same language as the notice they stand beside.
- ``availability()`` / ``require_enrolment()`` / ``require_signin()``: kill switches and
  jurisdiction for this request, refused with a clear 403 ``FeatureDisabled``.
- ``consent_from_json()`` / ``notice_from_form()``: the decision a page sends, checked.
- The sign-up "No thanks": at sign-up the account does not exist yet, so a decline waits
  in the signed cookie session and the password + code sign-up records it with the
  account. A "yes" is bound to the passkey ceremony instead (passkeys/service.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app, g, request
from flask import session as cookie

from authdemo import current, i18n
from authdemo.consent import facts, rollout, service
from authdemo.consent.notices import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    NOTICES,
    PASSKEY_SIGNIN,
    Notice,
    NoticeBook,
)
from authdemo.consent.rollout import Availability
from authdemo.consent.service import Action, ConsentNotGiven
from authdemo.errors import FeatureDisabled
from authdemo.fallback.service import SignUpDecline
from authdemo.pilot import web as pilot

NOTICES_EXTENSION = "authdemo.notices"
#: Cookie-session key of a sign-up decision waiting for its account.
SIGNUP_DECISION_KEY = "consent_signup"
#: Fields a passkey options request may carry.
JSON_FIELDS = frozenset({"consent", "notice_version", "notice_language", "notice_sha256"})


def notice_book() -> NoticeBook:
    book: NoticeBook = current_app.extensions.get(NOTICES_EXTENSION, NOTICES)
    return book


def page_language() -> str:
    """The language this page is rendered in (the person's choice, else their browser's:
    ``authdemo.i18n``). The one seam between the notices and the app's languages."""
    return i18n.current_language()


def offered_languages() -> tuple[str, ...]:
    """The languages this deployment renders pages in (``AUTHDEMO_LANGUAGES``)."""
    return i18n.offered()


def current_notice() -> Notice:
    """The current notice in the page's language, or its English text if it was not
    published in that language (the page then says so: ``consent/_macros.html``)."""
    return notice_book().current(PASSKEY_SIGNIN, page_language())


def in_page_language(notice: Notice) -> Notice:
    """``notice``'s version as this page shows it: in its language, or in English."""
    return notice_book().in_language(notice, page_language())


def facts_beside(notice: Notice) -> facts.DeploymentFacts:
    """The deployment-facts block shown beside ``notice``, in the notice's language (from
    configuration): what a decision on that notice records the hash of."""
    return facts.from_settings(current.settings(), notice.language)


def language_name(code: str) -> str:
    """A language's own name for itself ("Deutsch", "English"): what a person looks for."""
    return LANGUAGE_NAMES.get(code, code)


def current_facts() -> facts.DeploymentFacts:
    """The deployment-facts block beside the current notice as this page shows it."""
    return facts_beside(current_notice())


# --- kill switches and jurisdiction --------------------------------------------------


def availability() -> Availability:
    """Passkeys for this request (cached per request): the jurisdiction rollout, the
    runtime switches (at most ``PASSKEY_SWITCH_CACHE_SECONDS`` old) and the pilot cohort
    of the signed-in account or the pending sign-up (docs/rollout.md)."""
    cached: Availability | None = g.get("passkey_availability")
    if cached is None:
        settings = current.settings()
        country = request.headers.get(settings.COUNTRY_HEADER) if settings.COUNTRY_HEADER else None
        switches = pilot.runtime_switches().effective(settings)
        in_pilot = not switches[0] or pilot.offered_enrolment()
        cached = rollout.availability(
            settings, country=country, switches=switches, in_pilot=in_pilot
        )
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
    return notice_from_form(body)


def notice_from_form(form: Mapping[str, Any], *, current_only: bool = True) -> Notice:
    """The notice text a form (or a JSON decision) says its page showed: version, language
    and hash. A form from a page rendered before languages were recorded has no language:
    it was English."""
    return service.shown_notice(
        notice_book(),
        version=form.get("notice_version"),
        sha256=form.get("notice_sha256"),
        language=form.get("notice_language", DEFAULT_LANGUAGE),
        offered=offered_languages(),
        current_only=current_only,
    )


# --- the "No thanks" made on the sign-up screen -------------------------------------------


def remember_signup_decline(notice: Notice, *, method: str, username: str, now: datetime) -> None:
    """Keep a "No thanks" until the password + code account exists (signed cookie: it
    cannot be forged). A "yes" is not kept here: it is bound to the passkey ceremony."""
    cookie[SIGNUP_DECISION_KEY] = {
        "action": str(Action.DECLINED),
        "version": notice.version,
        "language": notice.language,
        "facts": facts_beside(notice).sha256,
        "method": method,
        "username": username,
        "at": now.isoformat(),
    }


def forget_signup_decision() -> None:
    cookie.pop(SIGNUP_DECISION_KEY, None)


def signup_decline(username: str) -> SignUpDecline | None:
    """The "No thanks" this browser made for ``username``, for the sign-up use case to
    record with the account; None if there is none (or it was for another username)."""
    decision = cookie.get(SIGNUP_DECISION_KEY)
    if not isinstance(decision, dict) or decision.get("action") != str(Action.DECLINED):
        return None
    if decision.get("username") != username:
        return None
    language = str(decision.get("language") or DEFAULT_LANGUAGE)
    notice = notice_book().get(PASSKEY_SIGNIN, str(decision.get("version")), language)
    try:
        at = datetime.fromisoformat(str(decision.get("at")))
    except ValueError:
        return None
    if notice is None or at.tzinfo is None:
        return None
    # A decision remembered before the facts block existed: the facts shown now.
    facts_sha256 = str(decision.get("facts") or facts_beside(notice).sha256)
    return SignUpDecline(username, notice, facts_sha256, str(decision.get("method")), at)
