"""Password + one-time code pages: sign-up, sign-in, recovery, and managing them.

Thin routes: read the form, call ``service``, commit, render. The throttled sign-in
routes count only failures, per address and per (hashed) account.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import clock, current, ways_in
from authdemo.consent import web as consent_web
from authdemo.errors import InvalidInput, UsernameTaken
from authdemo.extensions import db
from authdemo.fallback import script_messages, service, throttle, totp
from authdemo.fallback import wiring as fallback_wiring
from authdemo.http import safe_next
from authdemo.sessions import auth
from authdemo.sessions import wiring as session_wiring
from authdemo.sessions.auth import (
    allow_restricted,
    current_session,
    login_required,
    may_act_without_step_up,
    require_recent_auth,
    step_up_url,
)
from authdemo.signup import pending as pending_signup
from authdemo.usecase import Refused
from authdemo.usernames import normalise_username

bp = Blueprint("fallback", __name__)

ENROLMENT_KEY = "enrolment"


@bp.app_template_global()
def fallback_messages(*modules: str) -> dict[str, LazyString]:
    """For a template's ``page_data``: what these modules of static/js/ may say."""
    return script_messages.of(*modules)


Page = str | Response | tuple[str, int]


def _username_or_none(raw: object) -> str | None:
    """Sign-in treats a malformed username like an unknown one (same answer)."""
    try:
        return normalise_username(raw)
    except InvalidInput:
        return None


#: What to say for each sign-in field left empty: the person forgot it, nothing was
#: checked, so no account is looked up and nothing is recorded (issue 17 item 3).
SIGN_IN_FIELDS = {
    "username": lazy_gettext("Enter your username."),
    "password": lazy_gettext("Enter your password."),
    "code": lazy_gettext("Enter the 6-digit code from your authenticator app."),
}
RECOVERY_FIELDS = {
    "username": lazy_gettext("Enter your username."),
    "recovery_code": lazy_gettext("Enter one of your recovery codes."),
}


def _left_empty(wanted: dict[str, LazyString]) -> dict[str, str]:
    """The fields of ``wanted`` the form left empty (or sent only spaces), with their
    "Enter your ..." message in the request's language."""
    empty = {}
    for name, message in wanted.items():
        value = request.form.get(name, "")
        if not value.strip():
            empty[name] = str(message)
    return empty


def _setup_page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    fb = fallback_wiring.fallback()
    return (
        render_template(
            template,
            min_length=fb.policy.min_length,
            max_length=fb.policy.max_length,
            **context,
        ),
        status,
    )


def _code_page(
    template: str, secret: str, account_name: str, status: int = 200, **context: object
) -> tuple[str, int]:
    uri = totp.provisioning_uri(secret, username=account_name, issuer=current.settings().RP_NAME)
    return (
        render_template(
            template,
            qr_data_uri=totp.qr_svg_data_uri(uri),
            secret_grouped=totp.grouped(secret),
            **context,
        ),
        status,
    )


# --- sign-up -------------------------------------------------------------------------


@bp.route("/signup/password", methods=["GET", "POST"])
def signup_password() -> Page:
    pending = pending_signup.current()
    if pending is None:
        return redirect(url_for("signup.signup"))
    if request.method == "GET":
        return _setup_page("fallback/signup_password.html", username=pending.username)
    try:
        enrolment = service.start_signup(
            db.session,
            fallback_wiring.fallback(),
            username=pending.username,
            display_name=pending.display_name,
            password=request.form.get("password"),
            now=clock.now(),
        )
    except (InvalidInput, UsernameTaken) as error:
        return _setup_page(
            "fallback/signup_password.html",
            error.status,
            username=pending.username,
            error=error,
        )
    db.session.commit()
    cookie[ENROLMENT_KEY] = enrolment.enrolment_id
    return redirect(url_for("fallback.signup_code"))


@bp.route("/signup/password/code", methods=["GET", "POST"])
def signup_code() -> Page:
    pending = pending_signup.current()
    enrolment_id = cookie.get(ENROLMENT_KEY)
    if pending is None or not isinstance(enrolment_id, str):
        return redirect(url_for("signup.signup"))
    username = pending.username
    fb = fallback_wiring.fallback()
    secret = service.pending_secret(db.session, fb, enrolment_id=enrolment_id, now=clock.now())
    if request.method == "GET":
        return _code_page("fallback/signup_code.html", secret, username, username=username)
    try:
        done = service.finish_signup(
            db.session,
            fb,
            enrolment_id=enrolment_id,
            username=username,
            account_id=pending.account_id,
            code=request.form.get("code"),
            now=clock.now(),
            policy=session_wiring.session_policy(),
            declined=consent_web.signup_decline(username),
            replacing=auth.replaced_session(),
        )
    except InvalidInput as error:
        return _code_page(
            "fallback/signup_code.html", secret, username, 400, username=username, error=error
        )
    db.session.commit()
    assert done.session_token is not None
    auth.establish(done.user_id, done.session_token)
    return render_template(
        "fallback/recovery_codes.html", codes=done.recovery_codes, new=True, username=username
    )


# --- sign-in -------------------------------------------------------------------------


@bp.post("/signin/password")
@throttle.guessing(throttle.account_key)
def signin_password() -> Page:
    empty = _left_empty(SIGN_IN_FIELDS)
    if empty:
        return render_template("signin.html", empty=empty), 400
    next_url = cookie.get("next")
    outcome = service.sign_in(
        db.session,
        fallback_wiring.fallback(),
        username=_username_or_none(request.form.get("username")),
        password=request.form.get("password"),
        code=request.form.get("code"),
        now=clock.now(),
        policy=session_wiring.session_policy(),
        replacing=auth.replaced_session(),
    )
    db.session.commit()  # a refusal keeps its audit event
    if isinstance(outcome, Refused):
        return render_template("signin.html", password_error=outcome.error), outcome.error.status
    user_id, token = outcome
    auth.establish(user_id, token)
    return redirect(safe_next(next_url, url_for("main.account")))


@bp.route("/signin/recovery", methods=["GET", "POST"])
@throttle.guessing(throttle.account_key, methods=["POST"])
def signin_recovery() -> Page:
    if request.method == "GET":
        return render_template("fallback/signin_recovery.html")
    empty = _left_empty(RECOVERY_FIELDS)
    if empty:
        return render_template("fallback/signin_recovery.html", empty=empty), 400
    outcome = service.sign_in_with_recovery_code(
        db.session,
        fallback_wiring.fallback(),
        username=_username_or_none(request.form.get("username")),
        code=request.form.get("recovery_code"),
        now=clock.now(),
        policy=session_wiring.session_policy(),
        replacing=auth.replaced_session(),
    )
    db.session.commit()  # a refusal keeps its audit event
    if isinstance(outcome, Refused):
        page = render_template("fallback/signin_recovery.html", error=outcome.error)
        return page, outcome.error.status
    user_id, token, left = outcome
    auth.establish(user_id, token)
    flash(_("You used a recovery code. You have %(left)s left.", left=left))
    return redirect(url_for("fallback.recover"))


@bp.get("/signin/lost-passkey")
def lost_passkey() -> str:
    return render_template("fallback/lost_passkey.html")


# --- restricted session: set up a new way in -----------------------------------------


@bp.get("/account/recover")
@login_required
@allow_restricted
def recover() -> Page:
    active = current_session()
    if active is None or not active.restricted:
        return redirect(url_for("main.account"))
    return render_template(
        "fallback/recover.html",
        codes_left=ways_in.methods_of(db.session, current_user.id).recovery_codes,
    )


# --- managing password + code ----------------------------------------------------------


@bp.get("/account/password-code")
@login_required
def manage() -> Page:
    return _manage_page()


def _manage_page(status: int = 200, **context: object) -> tuple[str, int]:
    """The password + code page; a refused change or removal is shown on it with the
    refusal's own status (a 4xx, not a redirect: the brief's "bad input gets a clear 4xx",
    and the form keeps its place)."""
    methods = ways_in.methods_of(db.session, current_user.id)
    return (
        render_template(
            "fallback/manage.html",
            has_password=methods.password_and_code,
            removable=ways_in.can_remove_password_and_code(
                methods, passkey_signin=consent_web.availability().signin
            ),
            codes_left=methods.recovery_codes,
            min_length=fallback_wiring.fallback().policy.min_length,
            **context,
        ),
        status,
    )


@bp.route("/account/password-code/setup", methods=["GET", "POST"])
@login_required
@allow_restricted
def setup() -> Page:
    if not may_act_without_step_up():
        return redirect(step_up_url(request.path))
    if request.method == "GET":
        return _setup_page("fallback/setup_password.html", username=current_user.username)
    try:
        enrolment = service.start_setup(
            db.session,
            fallback_wiring.fallback(),
            user=current_user,
            password=request.form.get("password"),
            now=clock.now(),
        )
    except InvalidInput as error:
        return _setup_page(
            "fallback/setup_password.html", 400, username=current_user.username, error=error
        )
    db.session.commit()
    cookie[ENROLMENT_KEY] = enrolment.enrolment_id
    return redirect(url_for("fallback.setup_code"))


@bp.route("/account/password-code/confirm", methods=["GET", "POST"])
@login_required
@allow_restricted
def setup_code() -> Page:
    if not may_act_without_step_up():
        return redirect(step_up_url(url_for("fallback.setup")))
    fb = fallback_wiring.fallback()
    enrolment_id = cookie.get(ENROLMENT_KEY)
    secret = service.pending_secret(db.session, fb, enrolment_id=enrolment_id, now=clock.now())
    username = current_user.username
    if request.method == "GET":
        return _code_page("fallback/setup_code.html", secret, username)
    active = current_session()
    try:
        codes = service.finish_setup(
            db.session,
            fb,
            user=current_user,
            enrolment_id=enrolment_id,
            code=request.form.get("code"),
            now=clock.now(),
            active=active,
            session_ref=auth.session_ref(),
        )
    except InvalidInput as error:
        return _code_page("fallback/setup_code.html", secret, username, 400, error=error)
    db.session.commit()
    cookie.pop(ENROLMENT_KEY, None)
    if active is not None and active.restricted:
        # The recovery is complete: the restricted session ended; sign in with the new way.
        auth.forget()
        return render_template(
            "fallback/recovery_codes.html", codes=codes, signed_out=True, username=username
        )
    return render_template("fallback/recovery_codes.html", codes=codes, username=username)


@bp.post("/account/password")
@login_required
@require_recent_auth
def change_password() -> Page:
    try:
        service.change_password(
            db.session,
            fallback_wiring.fallback(),
            user=current_user,
            new_password=request.form.get("new_password"),
            now=clock.now(),
            session_ref=auth.session_ref(),
        )
    except InvalidInput as error:
        return _manage_page(error.status, change_error=error)
    db.session.commit()
    flash(_("Your password is changed."))
    return redirect(url_for("fallback.manage"))


@bp.post("/account/password-code/remove")
@login_required
@require_recent_auth
def remove() -> Page:
    try:
        service.remove_password_and_code(
            db.session,
            user=current_user,
            passkey_signin=consent_web.availability().signin,
            now=clock.now(),
            session_ref=auth.session_ref(),
        )
    except (ways_in.LastWayIn, InvalidInput) as error:
        return _manage_page(error.status, remove_error=error)
    db.session.commit()
    flash(_("Password and one-time code sign-in is removed."))
    return redirect(url_for("fallback.manage"))


@bp.post("/account/recovery-codes")
@login_required
@require_recent_auth
def regenerate_codes() -> Page:
    codes = service.regenerate_recovery_codes(
        db.session, fallback_wiring.fallback(), user=current_user, now=clock.now()
    )
    db.session.commit()
    return render_template(
        "fallback/recovery_codes.html", codes=codes, username=current_user.username
    )
