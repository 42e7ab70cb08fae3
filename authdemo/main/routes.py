"""Home and account pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import current, i18n, ways_in
from authdemo.account.routes import (
    just_created,
    needs_backup,
    recent_activity,
    render_account_page,
    take_notices,
)
from authdemo.consent import web as consent_web
from authdemo.extensions import db
from authdemo.http import safe_next
from authdemo.sessions.auth import current_session, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    return render_template("index.html")


@bp.post("/language")
def choose_language() -> Response:
    """The language selector in every page's footer: a plain form (no JavaScript needed),
    with the CSRF token and origin check every form has. The choice is kept in the session
    and, for a signed-in account, stored on it (a recovery-code session changes only this
    browser: it may set up a new way in, not the account). Back to the page it was made
    on, never anywhere else (``safe_next``)."""
    language = i18n.chosen(request.form.get("language"))
    back = safe_next(request.form.get("next"), url_for("main.index"))
    active = current_session() if current_user.is_authenticated else None
    if active is not None and not active.restricted:
        i18n.remember_language(db.session, user_id=current_user.id, language=language)
        db.session.commit()
    i18n.keep_choice(language)
    return redirect(back, code=303)


@bp.get("/account")
@login_required
def account() -> str | tuple[str, int]:
    """The account overview: what the person has set up, where to manage it, and what
    happened lately (security notices)."""
    shown = take_notices()
    # One event is shown once: what the notices above show is not listed again below.
    activity = [item for item in recent_activity() if item.id not in {n.id for n in shown}]
    db.session.commit()
    methods = ways_in.methods_of(db.session, current_user.id)
    return render_account_page(
        "account.html",
        shown=shown,
        # First run (issue 17 item 1): confirm the new passkey, then offer a backup.
        created=just_created(),
        needs_backup=needs_backup(methods),
        passkey_count=methods.passkeys,
        has_password=methods.password_and_code,
        # A way in that works here and now (authdemo.ways_in): none left, say so first.
        no_way_in=not methods.has_way_in(passkey_signin=consent_web.availability().signin),
        # No passkey and no password + code at all: purged after erase_days (0013).
        nothing_to_confirm_with=not methods.any_registered,
        erase_days=current.settings().NO_WAY_IN_ERASE_DAYS,
        activity=activity,
    )
