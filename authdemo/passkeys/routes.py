"""JSON endpoints of the passkey ceremonies. Thin: parse, one use case, commit, respond.

An options request writes nothing: the ceremony travels sealed in the cookie session under
``CEREMONY_KEY`` (docs/decisions/0019-sealed-challenges.md). A use case that refuses
returns ``Refused``: the route commits what the refusal keeps (the used challenge, the
refusal's audit row) and then raises its error (docs/decisions/0012-use-case-transactions.md).
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_login import current_user

from authdemo import clock, current
from authdemo.account import routes as account_routes
from authdemo.account import service as account_service
from authdemo.consent import web as consent_web
from authdemo.errors import StepUpRequired
from authdemo.extensions import db, limiter
from authdemo.http import json_text, read_json_object, safe_next
from authdemo.passkeys import service, signals
from authdemo.passkeys import wiring as passkey_wiring
from authdemo.passkeys.script_messages import CEREMONY_MESSAGES
from authdemo.sessions import auth
from authdemo.sessions import wiring as session_wiring
from authdemo.sessions.auth import (
    allow_restricted,
    login_required,
    may_act_without_step_up,
    step_up_url,
)
from authdemo.signup import pending as pending_signup
from authdemo.usecase import Refused

bp = Blueprint("passkeys", __name__, url_prefix="/api/passkeys")

CEREMONY_KEY = "ceremony"


@bp.app_template_global()
def ceremony_messages() -> dict[str, LazyString]:
    """For a template's ``page_data``: what a passkey ceremony's scripts may say."""
    return dict(CEREMONY_MESSAGES)


def _ceremony_limit() -> str:
    return current.settings().RATELIMIT_CEREMONY


@bp.post("/sign-up/options")
@limiter.limit(_ceremony_limit)
def sign_up_options() -> Response:
    body = read_json_object()
    pending = pending_signup.require()
    consent_web.require_enrolment()
    # Explicit opt-in (GDPR Art 7) on the notice the page showed: the unticked box was
    # ticked, and the version, language and SHA-256 of the text match a text we published.
    notice = consent_web.consent_from_json(body)
    now = clock.now()
    # The decision is bound to the ceremony, and recorded with the account it creates.
    started = service.start_sign_up(
        db.session,
        rp=passkey_wiring.relying_party(),
        account_id=pending.account_id,
        username=pending.username,
        display_name=pending.display_name,
        consent=notice,
        consent_facts_sha256=consent_web.facts_beside(notice).sha256,
        now=now,
    )
    cookie[CEREMONY_KEY] = started.token
    return json_text(started.options_json)


@bp.post("/sign-up/verify")
@limiter.limit(_ceremony_limit)
def sign_up_verify() -> Response:
    body = read_json_object()
    consent_web.require_enrolment()
    pending_signup.require()
    outcome = service.finish_sign_up(
        db.session,
        rp=passkey_wiring.relying_party(),
        notices=consent_web.notice_book(),
        token=cookie.pop(CEREMONY_KEY, None),
        payload=body,
        now=clock.now(),
        policy=session_wiring.session_policy(),
        replacing=auth.replaced_session(),
    )
    db.session.commit()
    if isinstance(outcome, Refused):
        raise outcome.error
    pending_signup.finish()
    auth.establish(outcome.user_id, outcome.session_token)
    created = account_service.newest_passkey_id(db.session, user_id=outcome.user_id)
    if created is not None:
        account_routes.remember_created(created)  # the first run confirms it
    return jsonify({"status": "ok", "redirect": url_for("main.account")})


@bp.post("/sign-in/options")
@limiter.limit(_ceremony_limit)
def sign_in_options() -> Response:
    read_json_object()
    consent_web.require_signin()
    started = service.start_sign_in(db.session, rp=passkey_wiring.relying_party(), now=clock.now())
    cookie[CEREMONY_KEY] = started.token
    return json_text(started.options_json)


@bp.post("/sign-in/verify")
@limiter.limit(_ceremony_limit)
def sign_in_verify() -> Response:
    body = read_json_object()
    consent_web.require_signin()
    token = cookie.pop(CEREMONY_KEY, None)
    next_url = cookie.get("next")  # kept if this attempt is refused
    outcome = service.finish_sign_in(
        db.session,
        rp=passkey_wiring.relying_party(),
        token=token,
        payload=body,
        now=clock.now(),
        policy=session_wiring.session_policy(),
        replacing=auth.replaced_session(),
    )
    db.session.commit()
    if isinstance(outcome, Refused):
        if outcome.ceremony_kept:
            cookie[CEREMONY_KEY] = token
        raise outcome.error
    auth.establish(outcome.user_id, outcome.session_token)  # a new cookie session: no "next"
    return jsonify(
        {
            "status": "ok",
            "redirect": safe_next(next_url, url_for("main.account")),
            # For PublicKeyCredential.signalAllAcceptedCredentials (WebAuthn Signal API).
            "signal": signals.all_accepted_credentials(
                rp_id=current.settings().RP_ID,
                user_handle=outcome.user_handle,
                credential_ids=outcome.passkey_ids,
            ),
        }
    )


@bp.post("/add/options")
@login_required
@allow_restricted
@limiter.limit(_ceremony_limit)
def add_options() -> Response:
    body = read_json_object()
    if not may_act_without_step_up():
        raise StepUpRequired(stepUpUrl=step_up_url(url_for("main.account")))
    consent_web.require_enrolment()
    # An empty body: the page showed the one-line reminder of the notice already agreed
    # to (issue 17 item 6); the use case checks that grant still stands.
    notice = consent_web.consent_from_json(body) if body else None
    active = auth.current_session()
    restricted = active is not None and active.restricted
    started = service.start_add_passkey(
        db.session,
        rp=passkey_wiring.relying_party(),
        user=current_user,
        consent_to=notice,
        current_notice=consent_web.current_notice(),
        consent_facts_sha256=consent_web.facts_beside(
            notice or consent_web.current_notice()
        ).sha256,
        consent_method=(
            "recovery:passkey-consent-checkbox"
            if restricted
            else "account:passkey-consent-checkbox"
        ),
        now=clock.now(),
    )
    cookie[CEREMONY_KEY] = started.token
    return json_text(started.options_json)


@bp.post("/add/verify")
@login_required
@allow_restricted
@limiter.limit(_ceremony_limit)
def add_verify() -> Response:
    body = read_json_object()
    active = auth.current_session()
    assert active is not None  # login_required
    outcome = service.finish_add_passkey(
        db.session,
        rp=passkey_wiring.relying_party(),
        notices=consent_web.notice_book(),
        token=cookie.pop(CEREMONY_KEY, None),
        payload=body,
        user=current_user,
        active=active,
        now=clock.now(),
        session_ref=auth.session_ref(),
    )
    db.session.commit()
    if isinstance(outcome, Refused):
        raise outcome.error
    if outcome.signed_out:
        # Recovery complete: the restricted session ended; sign in with the new passkey.
        auth.forget()
        flash(_("Your new passkey is ready. Please sign in with it."))
        return jsonify({"status": "ok", "redirect": url_for("sessions.signin")})
    account_routes.remember_created(outcome.passkey_id)  # confirmed, and offered a name
    return jsonify({"status": "ok", "redirect": url_for("main.account")})
