"""Step-up: "confirm it's you" with a passkey or password + code of this same account.

The page is never empty (issue 14 item 4): it names the action being confirmed, offers
each way in the account has *now* (``authdemo.ways_in``), and has a Cancel link back. An
account with no way in left has nothing to confirm with: the page says so and links to
what such an account can always do without step-up (a new passkey where passkeys are
offered, password + code, deleting the account, signing out). A passkey that the kill
switch or the rollout keeps from signing in still confirms here when it is all the
account has (decision 0013).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from flask_babel.speaklater import LazyString
from flask_login import current_user

from authdemo import clock, current, ways_in
from authdemo.consent import web as consent_web
from authdemo.errors import FeatureDisabled
from authdemo.extensions import db, limiter
from authdemo.fallback import service as fallback
from authdemo.fallback import throttle
from authdemo.fallback import wiring as fallback_wiring
from authdemo.http import json_text, read_json_object, safe_next
from authdemo.passkeys import service as passkeys
from authdemo.passkeys import wiring as passkey_wiring
from authdemo.passkeys.routes import CEREMONY_KEY
from authdemo.sessions import auth
from authdemo.sessions.auth import current_session, login_required
from authdemo.usecase import Refused

bp = Blueprint("stepup", __name__)


def _default_next() -> str:
    return url_for("main.account")


@dataclass(frozen=True, slots=True)
class Action:
    #: What the person is confirming, to finish "To ..., please sign in again first" and
    #: "You asked to ..." (translated when the page is rendered).
    words: LazyString
    #: Where Cancel goes: the page the action starts from.
    back: str


#: The endpoints that ask for step-up (``require_recent_auth``, ``step_up_url``). The
#: page names the action from this table only, never from text in the URL. The words are
#: marked with the context "step-up action": they complete "To …, please sign in again
#: first." and "You asked to …." (German: a zu-infinitive, "einen Passkey zu entfernen").
_REMOVE_PASSKEY = lazy_pgettext("step-up action", "remove a passkey")
_SET_UP_PASSWORD = lazy_pgettext("step-up action", "set up a password and one-time code")
_DOWNLOAD = lazy_pgettext("step-up action", "download a copy of your data")
_DELETE = lazy_pgettext("step-up action", "delete your account")
ACTIONS = {
    "account.confirm_remove_passkey": Action(_REMOVE_PASSKEY, "account.passkeys"),
    "account.remove_passkey": Action(_REMOVE_PASSKEY, "account.passkeys"),
    "passkeys.add_options": Action(
        lazy_pgettext("step-up action", "add a passkey"), "account.passkeys"
    ),
    "account.profile": Action(
        lazy_pgettext("step-up action", "change your username"), "account.profile"
    ),
    "fallback.setup": Action(_SET_UP_PASSWORD, "fallback.manage"),
    "fallback.setup_code": Action(_SET_UP_PASSWORD, "fallback.manage"),
    "fallback.change_password": Action(
        lazy_pgettext("step-up action", "change your password"), "fallback.manage"
    ),
    "fallback.remove": Action(
        lazy_pgettext("step-up action", "remove your password and one-time code"),
        "fallback.manage",
    ),
    "fallback.regenerate_codes": Action(
        lazy_pgettext("step-up action", "make new recovery codes"), "fallback.manage"
    ),
    "privacy.download": Action(_DOWNLOAD, "privacy.dashboard"),
    "privacy.export_json": Action(_DOWNLOAD, "privacy.dashboard"),
    "privacy.delete_confirm": Action(_DELETE, "privacy.dashboard"),
    "privacy.delete_account": Action(_DELETE, "privacy.dashboard"),
    "consent.withdraw": Action(
        lazy_pgettext(
            "step-up action",
            "stop using passkeys (we delete your passkeys, your only way to sign in)",
        ),
        "consent.manage",
    ),
}
SOME_CHANGE = Action(lazy_pgettext("step-up action", "make this change"), "main.account")


def _page(
    next_url: str, action_name: object, *, status: int = 200, error: str | None = None
) -> tuple[str, int]:
    action = ACTIONS.get(action_name, SOME_CHANGE) if isinstance(action_name, str) else SOME_CHANGE
    methods = ways_in.methods_of(db.session, current_user.id)
    state = consent_web.availability()
    # What this session can confirm with: a passkey kept from signing in by the kill
    # switch or the rollout still confirms, when it is all the account has (0013).
    ways = methods.confirm_methods(passkey_signin=state.signin)
    page = render_template(
        "stepup/reauth.html",
        next_url=next_url,
        action=action.words,
        action_name=action_name if action is not SOME_CHANGE else None,
        cancel_url=url_for(action.back),
        has_passkey=ways_in.Method.PASSKEY in ways,
        has_password=ways_in.Method.PASSWORD_AND_CODE in ways,
        #: Passkeys the account has but cannot sign in with here and now (kill switch,
        #: rollout); with ``has_passkey`` they still confirm in this session.
        passkeys_off=state.signin_reason if methods.passkeys and not state.signin else None,
        no_way_in=not ways,
        can_create_passkey=state.enrolment,
        recovery_codes=methods.recovery_codes,
        error=error,
    )
    return page, status


def _require_passkey_step_up() -> None:
    """Step-up with a passkey works where passkey sign-in does, and, where the kill
    switch or the rollout keeps passkeys from signing in, for an account with nothing else
    to confirm with (``ways_in.Methods.confirm_methods``; decision 0013): it proves
    possession inside a session that exists already. An account with a password + code
    confirms with that while passkeys are off."""
    state = consent_web.availability()
    if state.signin:
        return
    methods = ways_in.methods_of(db.session, current_user.id)
    if ways_in.Method.PASSKEY not in methods.confirm_methods(passkey_signin=False):
        raise FeatureDisabled(state.signin_reason)


@bp.get("/reauth")
@login_required
def reauth() -> tuple[str, int]:
    next_url = safe_next(request.args.get("next"), _default_next())
    return _page(next_url, request.args.get("action"))


@bp.post("/api/reauth/options")
@login_required
@limiter.limit(lambda: current.settings().RATELIMIT_CEREMONY)
def passkey_options() -> Response:
    read_json_object()
    _require_passkey_step_up()
    started = passkeys.start_step_up(
        db.session, rp=passkey_wiring.relying_party(), user_id=current_user.id, now=clock.now()
    )
    cookie[CEREMONY_KEY] = started.token  # sealed; nothing was stored
    return json_text(started.options_json)


@bp.post("/api/reauth/verify")
@login_required
@limiter.limit(lambda: current.settings().RATELIMIT_CEREMONY)
def passkey_verify() -> Response:
    body = read_json_object()
    _require_passkey_step_up()
    # The page sends where to go next beside the credential; the credential alone goes on
    # to the strict WebAuthn parser, which refuses unknown members.
    next_url = body.pop("next", None)
    active = current_session()
    assert active is not None  # login_required
    token = cookie.pop(CEREMONY_KEY, None)
    outcome = passkeys.finish_step_up(
        db.session,
        rp=passkey_wiring.relying_party(),
        token=token,
        payload=body,
        active=active,
        now=clock.now(),
    )
    db.session.commit()
    if isinstance(outcome, Refused):
        if outcome.ceremony_kept:
            cookie[CEREMONY_KEY] = token
        raise outcome.error
    auth.rotate_after_step_up(outcome)
    return jsonify({"status": "ok", "redirect": safe_next(next_url, _default_next())})


@bp.post("/reauth/password")
@login_required
@throttle.guessing(throttle.signed_in_account_key)
def password() -> ResponseReturnValue:
    next_url = safe_next(request.form.get("next"), _default_next())
    action_name = request.form.get("action")
    active = current_session()
    assert active is not None  # login_required
    outcome = fallback.step_up(
        db.session,
        fallback_wiring.fallback(),
        user=current_user,
        active=active,
        password=request.form.get("password"),
        code=request.form.get("code"),
        now=clock.now(),
    )
    db.session.commit()  # a refusal keeps its audit event
    if isinstance(outcome, Refused):
        error = _("The password or code is not right. Please try again.")
        return _page(next_url, action_name, status=outcome.error.status, error=error)
    auth.rotate_after_step_up(outcome)
    return redirect(next_url)
