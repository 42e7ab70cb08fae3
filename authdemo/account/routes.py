"""Account management pages: passkeys, signed-in sessions, profile, security notices.

Plain HTML forms (they work with the keyboard alone and without JavaScript); only adding
a passkey needs the page's script. Thin routes: read the form, call the service, commit,
redirect (post/redirect/get) or re-render the page with the error tied to its field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from authdemo import clock, current, ways_in
from authdemo.account import notices, service
from authdemo.consent import script_messages as consent_script_messages
from authdemo.consent import web as consent_web
from authdemo.errors import AuthDemoError, InvalidInput, StepUpRequired, UsernameTaken
from authdemo.extensions import db, limiter
from authdemo.fallback.throttle import account_id_key_for
from authdemo.http import safe_next
from authdemo.human_units import human_moment
from authdemo.passkeys import signals
from authdemo.passkeys.script_messages import CEREMONY_MESSAGES
from authdemo.ratelimit import address_key
from authdemo.sessions import auth, device_names
from authdemo.sessions import service as session_service
from authdemo.sessions.auth import (
    current_session,
    has_recent_auth,
    login_required,
    require_recent_auth,
)

bp = Blueprint("account", __name__, url_prefix="/account")

Page = str | Response | tuple[str, int]

#: One-shot: the id of the passkey this browser just created (sign-up or add). The next
#: account page confirms it, with its provider, and offers to name it (issue 17 items 1, 4).
PASSKEY_CREATED_KEY = "passkey_created"

#: One-shot Signal API calls for the next page of this browser (names only; the
#: options are computed from the database when that page renders).
SIGNALS_KEY = "account_signals"
SIGNAL_ACCEPTED = signals.ALL_ACCEPTED
SIGNAL_USER_DETAILS = signals.USER_DETAILS

# Profile changes are limited per account (RATELIMIT_PROFILE). Every attempt counts, not
# only successes: "that username is taken" tells whether an account exists, so trying
# names must stay slow.


# --- shared page plumbing ------------------------------------------------------------


@bp.app_template_filter("when")
def when(value: datetime | None) -> str:
    """A moment as people read it, in UTC (the server knows no one's time zone)."""
    if value is None:
        return str(_("never"))
    return human_moment(value)


def _viewer() -> notices.Viewer:
    """This browser's session: what it did itself (its sign-in, the changes made in it) is
    no news to its owner (issue 17 item 2)."""
    active = current_session()
    if active is None:
        return notices.Viewer()
    return notices.Viewer(
        sign_in_at=service.session_started_at(db.session, session_id=active.id),
        session_refs=tuple(auth.session_refs(active.id)),
    )


def _queue_signal(method: str) -> None:
    queued = [m for m in cookie.get(SIGNALS_KEY, []) if m != method]
    cookie[SIGNALS_KEY] = [*queued, method]


def _page_signals() -> list[dict[str, Any]]:
    """The Signal API calls queued for this page, with their options from the database."""
    queued = cookie.pop(SIGNALS_KEY, [])
    rp_id = current.settings().RP_ID
    calls: list[dict[str, Any]] = []
    for method in queued if isinstance(queued, list) else []:
        if method == SIGNAL_ACCEPTED:
            options = service.all_accepted_credentials(db.session, user=current_user, rp_id=rp_id)
        elif method == SIGNAL_USER_DETAILS:
            options = service.current_user_details(current_user, rp_id=rp_id)
        else:
            continue
        calls.append(signals.call(method, options))
    return calls


def take_notices() -> list[notices.Notice]:
    """The step a GET of an account page performs before rendering, and its route then
    commits: the security notices it is about to show become seen (decision 0012)."""
    return notices.take_unseen(db.session, user=current_user, viewer=_viewer())


def remember_created(passkey_id: int) -> None:
    """After the commit that stored a new passkey: confirm it on the next account page."""
    cookie[PASSKEY_CREATED_KEY] = passkey_id


def just_created() -> service.PasskeyView | None:
    """The passkey this browser just created, once (the cookie's id, scoped to the person:
    any other id shows nothing)."""
    passkey_id = cookie.pop(PASSKEY_CREATED_KEY, None)
    if not isinstance(passkey_id, int):
        return None
    return service.find_passkey(db.session, user_id=current_user.id, passkey_id=passkey_id)


def needs_backup(methods: ways_in.Methods) -> bool:
    """One passkey and nothing else: offer a backup way in, a second passkey or recovery
    codes (the lost-passkey help relies on them). Asked on the account page until there
    is one; never a blocking step."""
    return methods.passkeys == 1 and not methods.password_and_code and not methods.recovery_codes


def render_account_page(
    template: str,
    status: int = 200,
    *,
    shown: list[notices.Notice] | None = None,
    **context: Any,
) -> tuple[str, int]:
    """Render an account page with the security notices ``shown`` (those the GET route
    took with ``take_notices``) and any queued Signal API calls. Writes nothing: a page
    re-rendered for a refused form shows the unseen notices without marking them seen,
    so the refusal changes no row."""
    if shown is None:
        shown = notices.unseen(db.session, user=current_user, viewer=_viewer())
    page_data = dict(context.pop("page_data", {}))
    page_data["signals"] = _page_signals()
    page = render_template(
        template, user=current_user, notices=shown, page_data=page_data, **context
    )
    return page, status


def recent_activity() -> list[notices.Notice]:
    return notices.recent(db.session, user=current_user, now=clock.now(), viewer=_viewer())


# --- passkeys ------------------------------------------------------------------------


def _passkey_signin() -> bool:
    """Passkeys are a way in here and now (kill switch and rollout, ``authdemo.ways_in``)."""
    return consent_web.availability().signin


def _passkeys_page(status: int = 200, **context: Any) -> tuple[str, int]:
    user_id = current_user.id
    methods = ways_in.methods_of(db.session, user_id)
    return render_account_page(
        "account/passkeys.html",
        status,
        created=context.pop("created", None),
        passkeys=service.list_passkeys(db.session, user_id=user_id),
        can_remove=ways_in.can_remove_a_passkey(methods, passkey_signin=_passkey_signin()),
        has_password=methods.password_and_code,
        page_data={
            "endpoints": {
                "options": url_for("passkeys.add_options"),
                "verify": url_for("passkeys.add_verify"),
            },
            "afterAdd": url_for("account.passkeys"),
            "stepUp": url_for(
                "stepup.reauth", next=url_for("account.passkeys"), action="passkeys.add_options"
            ),
            # What static/js/webauthn.js may say when adding a passkey fails, and what
            # account-passkeys.js and consent-notice.js say around it.
            "messages": {**CEREMONY_MESSAGES, **consent_script_messages.of("account-passkeys")},
        },
        **context,
    )


@bp.get("/passkeys")
@login_required
def passkeys() -> Page:
    shown = take_notices()
    db.session.commit()
    return _passkeys_page(shown=shown, created=just_created())


@bp.post("/passkeys/<int:passkey_id>/name")
@login_required
def rename_passkey(passkey_id: int) -> Page:
    try:
        name = service.rename_passkey(
            db.session,
            user_id=current_user.id,
            passkey_id=passkey_id,
            name=request.form.get("name"),
            now=clock.now(),
        )
    except InvalidInput as error:
        db.session.rollback()
        return _passkeys_page(400, rename_error=error, rename_id=passkey_id)
    db.session.commit()
    flash(_("Your passkey is now called “%(name)s”.", name=name))
    return redirect(safe_next(request.form.get("next"), url_for("account.passkeys")))


@bp.get("/passkeys/<int:passkey_id>/remove")
@login_required
def confirm_remove_passkey(passkey_id: int) -> Page:
    passkey = service.get_passkey(db.session, user_id=current_user.id, passkey_id=passkey_id)
    methods = ways_in.methods_of(db.session, current_user.id)
    removable = ways_in.can_remove_a_passkey(methods, passkey_signin=_passkey_signin())
    if removable and not has_recent_auth():
        # Step-up before the question, so the answer is not lost to a detour.
        return redirect(auth.step_up_url(request.path))
    shown = take_notices()
    db.session.commit()
    return render_account_page(
        "account/remove_passkey.html",
        shown=shown,
        passkey=passkey,
        removable=removable,
        has_password=methods.password_and_code,
    )


@bp.post("/passkeys/<int:passkey_id>/remove")
@login_required
@require_recent_auth
def remove_passkey(passkey_id: int) -> Page:
    try:
        service.remove_passkey(
            db.session,
            user_id=current_user.id,
            passkey_id=passkey_id,
            passkey_signin=_passkey_signin(),
            now=clock.now(),
            session_ref=auth.session_ref(),
        )
    except ways_in.LastWayIn as error:
        db.session.rollback()
        return _passkeys_page(error.status, remove_error=error)
    db.session.commit()
    _queue_signal(SIGNAL_ACCEPTED)  # the device stops offering the removed passkey
    flash(_("The passkey is removed. It can no longer be used to sign in."))
    return redirect(url_for("account.passkeys"))


# --- sessions ------------------------------------------------------------------------


def _sessions_page(status: int = 200, **context: Any) -> tuple[str, int]:
    active = current_session()
    return render_account_page(
        "account/sessions.html",
        status,
        # Read now, shown in the field, stored only if the person saves it (item 12).
        suggested_label=device_names.suggest(request.headers.get("User-Agent")),
        sessions=service.list_sessions(
            db.session,
            user_id=current_user.id,
            current_id=active.id if active else None,
            now=clock.now(),
        ),
        **context,
    )


@bp.get("/sessions")
@login_required
def sessions() -> Page:
    shown = take_notices()
    db.session.commit()
    return _sessions_page(shown=shown)


@bp.post("/sessions/device-label")
@login_required
def label_device() -> Page:
    active = current_session()
    assert active is not None  # login_required
    try:
        label = service.label_session(
            db.session,
            user_id=current_user.id,
            session_id=active.id,
            label=request.form.get("device_label"),
        )
    except InvalidInput as error:
        db.session.rollback()
        return _sessions_page(400, error=error)
    db.session.commit()
    flash(
        _("This device is now called “%(name)s”.", name=label)
        if label
        else _("The device name is removed.")
    )
    return redirect(url_for("account.sessions"))


@bp.post("/sessions/<int:session_id>/sign-out")
@login_required
def sign_out_session(session_id: int) -> Page:
    active = current_session()
    if active is not None and active.id == session_id:
        session_service.sign_out(db.session, active, now=clock.now())
        db.session.commit()
        auth.forget()
        return redirect(url_for("sessions.signin", signed_out=1))
    service.sign_out_session(
        db.session, user_id=current_user.id, session_id=session_id, now=clock.now()
    )
    db.session.commit()
    flash(_("That session is signed out."))
    return redirect(url_for("account.sessions"))


@bp.post("/sessions/sign-out-others")
@login_required
def sign_out_others() -> Page:
    active = current_session()
    assert active is not None  # login_required
    count = service.sign_out_other_sessions(
        db.session, user_id=current_user.id, current_id=active.id, now=clock.now()
    )
    db.session.commit()
    flash(
        ngettext(
            "Signed out everywhere else (%(num)d session).",
            "Signed out everywhere else (%(num)d sessions).",
            count,
        )
        if count
        else _("You weren't signed in anywhere else.")
    )
    return redirect(url_for("account.sessions"))


# --- profile -------------------------------------------------------------------------


def _profile_limit() -> str:
    limit: str = current.settings().RATELIMIT_PROFILE
    return limit


def _account_key() -> str:
    # By the account's id, not its username: renaming must not restart the count.
    user_id = getattr(current_user, "id", None)
    return account_id_key_for(user_id) if user_id else address_key()


def _profile_page(status: int = 200, **context: Any) -> tuple[str, int]:
    form = context.pop("form", None) or {
        "username": current_user.username,
        "display_name": current_user.display_name or "",
    }
    return render_account_page("account/profile.html", status, form=form, **context)


#: A profile change waiting for step-up: the form as typed, shown again afterwards so
#: nothing typed is lost to the detour (WCAG 2.2 SC 2.2.5).
PROFILE_DRAFT_KEY = "profile_draft"


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@limiter.limit(_profile_limit, key_func=_account_key, methods=["POST"])
def profile() -> Page:
    if request.method == "GET":
        draft = cookie.pop(PROFILE_DRAFT_KEY, None)
        shown = take_notices()
        db.session.commit()
        if isinstance(draft, dict) and has_recent_auth():
            form = {k: str(draft.get(k, "")) for k in ("username", "display_name")}
            return _profile_page(form=form, draft=True, shown=shown)
        return _profile_page(shown=shown)
    form = {
        "username": request.form.get("username", ""),
        "display_name": request.form.get("display_name", ""),
    }
    try:
        change = service.change_profile(
            db.session,
            user=current_user,
            username=form["username"],
            display_name=form["display_name"],
            now=clock.now(),
            stepped_up=has_recent_auth(),
            session_ref=auth.session_ref(),
        )
        db.session.commit()
    except StepUpRequired:
        db.session.rollback()
        cookie[PROFILE_DRAFT_KEY] = form
        return redirect(
            url_for("stepup.reauth", next=url_for("account.profile"), action="account.profile")
        )
    except IntegrityError:
        db.session.rollback()  # someone took that username at the same moment
        return _profile_error(UsernameTaken(), form)
    except AuthDemoError as error:
        db.session.rollback()
        return _profile_error(error, form)
    if not change.changed:
        flash(_("Nothing changed."))
        return redirect(url_for("account.profile"))
    # The device's passkey picker shows the new names (WebAuthn Signal API).
    _queue_signal(SIGNAL_USER_DETAILS)
    flash(_("Your profile is updated."))
    return redirect(url_for("account.profile"))


def _profile_error(error: AuthDemoError, form: dict[str, str]) -> tuple[str, int]:
    if isinstance(error, UsernameTaken):
        error = InvalidInput(error.detail, field="username")
        return _profile_page(UsernameTaken.status, form=form, error=error)
    return _profile_page(error.status, form=form, error=error)
