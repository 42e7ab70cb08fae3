"""JSON endpoints of the passkey ceremonies. Thin: parse, call the service, commit, respond."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, flash, jsonify, url_for
from flask import session as cookie
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from authdemo import clock, current
from authdemo.consent import service as consent
from authdemo.consent import web as consent_web
from authdemo.consent.service import Action
from authdemo.errors import (
    AuthDemoError,
    CeremonyFailed,
    StepUpRequired,
    UsernameTaken,
)
from authdemo.extensions import db, limiter
from authdemo.http import json_text, read_json_object, safe_next
from authdemo.passkeys import service, signals
from authdemo.sessions import auth
from authdemo.sessions.auth import (
    allow_restricted,
    login_required,
    may_act_without_step_up,
    step_up_url,
)
from authdemo.signup import pending as pending_signup

bp = Blueprint("passkeys", __name__, url_prefix="/api/passkeys")

CEREMONY_KEY = "ceremony"


def _ceremony_limit() -> str:
    return current.settings().RATELIMIT_CEREMONY


@contextmanager
def keeping_refusals() -> Iterator[None]:
    """On a refused attempt, commit what the service was allowed to write before refusing:
    the consumed challenge (single use) and the audit event. Nothing else is written."""
    try:
        yield
    except AuthDemoError:
        db.session.commit()
        raise


@bp.post("/sign-up/options")
@limiter.limit(_ceremony_limit)
def sign_up_options() -> Response:
    body = read_json_object()
    pending = pending_signup.require()
    consent_web.require_enrolment()
    # Explicit opt-in (GDPR Art 7) on the notice the page showed: the unticked box was
    # ticked, and the version and SHA-256 of the text match a notice we published.
    notice = consent_web.consent_from_json(body)
    now = clock.now()
    db.relax_durability()  # only a ceremony is written: lost in a power cut, one retry
    started = service.start_sign_up(
        db.session,
        rp=current.relying_party(),
        username=pending.username,
        display_name=pending.display_name,
        now=now,
    )
    db.session.commit()
    cookie[CEREMONY_KEY] = started.ceremony_id
    # Recorded in the ledger with the account, once the passkey verifies.
    consent_web.remember_signup_decision(
        Action.GRANTED,
        notice,
        method="signup:passkey-consent-checkbox",
        username=pending.username,
        now=now,
    )
    return json_text(started.options_json)


@bp.post("/sign-up/verify")
@limiter.limit(_ceremony_limit)
def sign_up_verify() -> Response:
    body = read_json_object()
    consent_web.require_enrolment()
    ceremony_id = cookie.pop(CEREMONY_KEY, None)
    username = pending_signup.require().username
    try:
        with keeping_refusals():
            outcome = service.finish_sign_up(
                db.session,
                rp=current.relying_party(),
                ceremony_id=ceremony_id,
                payload=body,
                now=clock.now(),
                policy=current.session_policy(),
            )
            # The consent given on the opt-in screen, in the account's own transaction.
            consent_web.record_signup_grant(db.session, user_id=outcome.user_id, username=username)
        db.session.commit()
    except IntegrityError as error:
        # Someone took the username, or registered this passkey, in the meantime (a race
        # the explicit checks can lose on PostgreSQL). The rollback restored the ceremony;
        # consume it again, then say which.
        db.session.rollback()
        if isinstance(ceremony_id, str):
            current.relying_party().store.discard(db.session, ceremony_id)
            db.session.commit()
        if "credential_id" in str(error.orig):
            raise CeremonyFailed("credential_already_registered") from None
        raise UsernameTaken() from None
    pending_signup.finish()
    auth.establish(outcome.user_id, outcome.session_token)
    return jsonify({"status": "ok", "redirect": url_for("main.account")})


@bp.post("/sign-in/options")
@limiter.limit(_ceremony_limit)
def sign_in_options() -> Response:
    read_json_object()
    consent_web.require_signin()
    db.relax_durability()  # only a challenge is written: lost in a power cut, one retry
    started = service.start_sign_in(db.session, rp=current.relying_party(), now=clock.now())
    db.session.commit()
    cookie[CEREMONY_KEY] = started.ceremony_id
    return json_text(started.options_json)


@bp.post("/sign-in/verify")
@limiter.limit(_ceremony_limit)
def sign_in_verify() -> Response:
    body = read_json_object()
    consent_web.require_signin()
    ceremony_id = cookie.pop(CEREMONY_KEY, None)
    next_url = cookie.get("next")  # kept if this attempt is refused
    with keeping_refusals():
        outcome = service.finish_sign_in(
            db.session,
            rp=current.relying_party(),
            ceremony_id=ceremony_id,
            payload=body,
            now=clock.now(),
            policy=current.session_policy(),
        )
    db.session.commit()
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
    notice = consent_web.consent_from_json(body)
    active = auth.current_session()
    restricted = active is not None and active.restricted
    now = clock.now()
    consent.grant(
        db.session,
        user_id=current_user.id,
        notice=notice,
        facts_sha256=consent_web.current_facts().sha256,
        method=(
            "recovery:passkey-consent-checkbox"
            if restricted
            else "account:passkey-consent-checkbox"
        ),
        now=now,
    )
    started = service.start_add_passkey(
        db.session, rp=current.relying_party(), user=current_user, now=now
    )
    db.session.commit()
    cookie[CEREMONY_KEY] = started.ceremony_id
    return json_text(started.options_json)


@bp.post("/add/verify")
@login_required
@allow_restricted
@limiter.limit(_ceremony_limit)
def add_verify() -> Response:
    body = read_json_object()
    # Consent may have been withdrawn (in another tab) since the options were given.
    latest = consent.latest(db.session, current_user.id)
    if latest is None or latest.action != Action.GRANTED:
        cookie.pop(CEREMONY_KEY, None)
        raise consent.ConsentNotGiven()
    try:
        with keeping_refusals():
            service.finish_add_passkey(
                db.session,
                rp=current.relying_party(),
                ceremony_id=cookie.pop(CEREMONY_KEY, None),
                payload=body,
                user=current_user,
                now=clock.now(),
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise CeremonyFailed("credential_already_registered") from None
    active = auth.current_session()
    if active is not None and active.restricted:
        # Recovery complete: the restricted session ends; sign in with the new passkey.
        auth.end_current_session()
        flash("Your new passkey is ready. Please sign in with it.")
        return jsonify({"status": "ok", "redirect": url_for("sessions.signin")})
    return jsonify({"status": "ok", "redirect": url_for("main.account")})
