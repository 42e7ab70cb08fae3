"""Sign-up pages: choose a username, then choose how to sign in (passkey opt-in)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import clock, current
from authdemo.consent import web as consent_web
from authdemo.errors import InvalidInput
from authdemo.extensions import db, limiter
from authdemo.passkeys import service as passkeys
from authdemo.passkeys import wiring as passkey_wiring
from authdemo.passkeys.routes import CEREMONY_KEY
from authdemo.signup import pending as pending_signup
from authdemo.usernames import normalise_display_name, normalise_username, username_taken

bp = Blueprint("signup", __name__)


def _signup_limit() -> str:
    return current.settings().RATELIMIT_SIGNUP


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    if request.method == "GET":
        return render_template("signup.html", form={}, error=None)
    form = {
        "username": request.form.get("username", ""),
        "display_name": request.form.get("display_name", ""),
    }
    try:
        username = normalise_username(form["username"])
        display_name = normalise_display_name(form["display_name"])
        _check_minimum_age(request.form.get("age_confirmed"))
    except InvalidInput as error:
        return render_template("signup.html", form=form, error=error), 400
    if username_taken(db.session, username):
        taken = InvalidInput(_("That username is taken. Please choose another."), field="username")
        return render_template("signup.html", form=form, error=taken), 409
    # A passkey ceremony started for the previous choice is discarded on the server, so a
    # late authenticator answer or an older cookie cannot create that account (issue 14).
    passkeys.abandon_ceremony(
        db.session,
        rp=passkey_wiring.relying_party(),
        token=cookie.pop(CEREMONY_KEY, None),
        now=clock.now(),
    )
    db.session.commit()
    previous = pending_signup.current()
    if previous is None or previous.username != username:
        consent_web.forget_signup_decision()  # a "No thanks" was about another username
    pending_signup.start(username, display_name)
    return redirect(url_for("signup.choose_method"))


def _check_minimum_age(declared: object) -> None:
    """MINIMUM_AGE > 0: the person declares they are old enough (a self-declaration, off
    by default; see docs/consent.md). Only the fact that the box was ticked is used: no
    age or birth date is asked for or stored (GDPR Art 5(1)(c), Art 8)."""
    minimum = current.settings().MINIMUM_AGE
    if minimum > 0 and declared != "yes":
        raise InvalidInput(
            _(
                "This service is for people aged %(minimum)s or over. "
                "Please tick the box to confirm your age.",
                minimum=minimum,
            ),
            field="age_confirmed",
        )


@bp.get("/signup/how")
def choose_method() -> str | Response:
    """The opt-in screen: a passkey, or the equally good password + code alternative."""
    pending = pending_signup.current()
    if pending is None:
        return redirect(url_for("signup.signup"))
    return render_template("signup_how.html", username=pending.username)
