"""Flask-Login glue: the cookie carries a session token, the database decides if it is live.

Flask-Login keeps the user id in Flask's signed cookie as usual; ``load_user`` accepts it
only if the cookie's server-side session token is also live and belongs to that user.
Revoking the record (sign out everywhere, erasure, expiry) therefore ends the session at
once, whatever cookie the browser still holds.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import ParamSpec, TypeVar

from flask import g, redirect, request, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from authdemo import clock, current, i18n, ways_in
from authdemo.errors import NotSignedIn, RestrictedSession, StepUpRequired, wants_json
from authdemo.extensions import db
from authdemo.http import safe_next
from authdemo.models import User
from authdemo.sessions import service
from authdemo.sessions.service import ActiveSession

P = ParamSpec("P")
R = TypeVar("R")

TOKEN_KEY = "sid"  # noqa: S105 - a cookie key name, not a secret
#: Cookie flag: the person just signed in again or confirmed it's them, so the next page
#: may fill in what they had typed before (sessions.routes.typed_data, WCAG 2.2.5).
TYPED_MAY_RETURN = "typed_may_return"


@dataclass(frozen=True, slots=True)
class _LoginId:
    """The minimum Flask-Login needs to remember who signed in (no database load)."""

    id: str
    is_active: bool = True
    #: Flask-Login's user protocol: the page rendered in the sign-in's own request (the
    #: recovery codes after a password + code sign-up) sees a signed-in person.
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.id


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader. Reads only: sliding the idle expiry is
    ``sessions.routes.keep_session_alive``, a transaction of its own."""
    token = cookie.get(TOKEN_KEY)
    if not isinstance(token, str):
        return None
    active = service.resolve(db.session, token, now=clock.now())
    if active is None or active.user_id != user_id:
        clear_keeping_language()
        return None
    user = db.session.get(User, user_id)
    if user is None:
        return None
    g.auth_session = active
    return user


def current_session() -> ActiveSession | None:
    value: ActiveSession | None = g.get("auth_session")
    return value


class Header(enum.StrEnum):
    """What the site header offers (templates/base.html), decided once per page from the
    browser's session, so it never shows a link that only bounces (issue 17 item 9)."""

    #: Sign in, create an account.
    SIGNED_OUT = "signed-out"
    #: Your account, your data, sign out. Also on the page the sign-in's own request
    #: renders (the recovery codes right after a password + code sign-up).
    SIGNED_IN = "signed-in"
    #: Signed in with a recovery code: set up a new way in, or sign out; every other
    #: signed-in page would send the person back to set-up.
    RESTRICTED = "restricted"


def header() -> Header:
    if not current_user.is_authenticated:
        return Header.SIGNED_OUT
    active = current_session()
    if active is not None and active.restricted:
        return Header.RESTRICTED
    return Header.SIGNED_IN


#: The key purpose of ``session_ref`` (``current.keyed_hash``).
SESSION_REF_PURPOSE = "audit-session"


def session_refs(session_id: int) -> list[str]:
    """The keyed hashes of a session's row id under the current and every previous data
    key (newest first): an audit row written before a key rotation still matches."""
    data = str(session_id).encode()
    return [digest.hex() for digest in current.keyed_hash(SESSION_REF_PURPOSE).candidates(data)]


def session_ref() -> str | None:
    """Which signed-in session is acting, for the audit rows it causes (issue 17 item 2):
    HMAC-SHA256 of the session's row id under a server-side key, never the token, so the
    audit trail cannot be used to take over a session, and the ids it links stay inside
    this service. None when no signed-in session is acting."""
    active = current_session() if current_user.is_authenticated else None
    return None if active is None else session_refs(active.id)[0]


def replaced_session() -> ActiveSession | None:
    """The session this browser has now, which a new sign-in ends (the use case revokes
    it in its own transaction: ``sessions.service.start(replacing=...)``)."""
    return current_session() if current_user.is_authenticated else None


def establish(user_id: str, token: str) -> None:
    """After the sign-in's commit: bind the new session token to this browser (a new
    cookie session: no fixation). The page language chosen before stays (authdemo.i18n);
    an account's stored language replaces it when Flask-Login reports the sign-in."""
    clear_keeping_language()
    cookie[TOKEN_KEY] = token
    cookie[TYPED_MAY_RETURN] = True
    cookie.permanent = True
    login_user(_LoginId(user_id))
    # Flask-Login also stores "_id", a SHA-512 of the address and User-Agent, for its
    # session protection, which is off here (the server-side session record replaces it):
    # a fingerprint of the person's connection that nothing reads, and 128 of the 355
    # characters of the cookie every request signs, sends and checks.
    cookie.pop("_id", None)


def rotate_after_step_up(new_token: str) -> None:
    cookie[TOKEN_KEY] = new_token
    cookie[TYPED_MAY_RETURN] = True


def forget() -> None:
    """After the sign-out's commit (``sessions.service.sign_out``): forget the cookie,
    except the page language (a code, linked to nobody): the goodbye page and the next
    visit stay in the language the person reads."""
    logout_user()
    clear_keeping_language()


def clear_keeping_language() -> None:
    """Empty the session cookie but for the page language the person chose."""
    language = cookie.get(i18n.SESSION_KEY)
    cookie.clear()
    if isinstance(language, str):
        cookie[i18n.SESSION_KEY] = language


def unauthorized() -> ResponseReturnValue:
    """HTML pages redirect to sign-in; JSON clients get a 401 problem+json."""
    if wants_json():
        raise NotSignedIn()
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:  # a form sent after the session ended: back to the page it was on, if it says
        back = safe_next(request.form.get("next"), url_for("main.account"))
    return redirect(url_for("sessions.signin", next=back))


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Signed in with a full session. A restricted (recovery-code) session may only use
    views marked ``allow_restricted``: it is sent to set up a new way in instead."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if not current_user.is_authenticated:
            return unauthorized()
        active = current_session()
        if active is not None and active.restricted and not getattr(view, _RESTRICTED_OK, False):
            if wants_json():
                raise RestrictedSession()
            return redirect(url_for("fallback.recover"))
        return view(*args, **kwargs)

    return wrapper


_RESTRICTED_OK = "_authdemo_allow_restricted"


def allow_restricted(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view usable from a restricted session (set up a new way in, sign out).
    Apply *below* ``login_required``."""
    setattr(view, _RESTRICTED_OK, True)
    return view


def step_up_url(back: str) -> str:
    """The "Confirm it's you" page for the action of this request (its endpoint names it
    there), coming back to ``back``."""
    return url_for("stepup.reauth", next=back, action=request.endpoint)


def ask_to_step_up(back: str) -> Response:
    """Send the person to "Confirm it's you" for this request's action, coming back to
    ``back`` (a JSON client gets a 401 problem+json naming the page)."""
    target = step_up_url(back)
    if wants_json():
        raise StepUpRequired(stepUpUrl=target)
    return redirect(target)


def _step_up_guard(
    passes: Callable[[], bool],
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            if not passes():
                if request.method == "GET":
                    back = request.full_path.rstrip("?")
                else:  # a form post: come back to the page it was on (a hidden "next" field)
                    back = safe_next(request.form.get("next"), url_for("main.account"))
                return ask_to_step_up(back)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def has_nothing_to_confirm_with() -> bool:
    """Signed in, but the account has no passkey and no password + code at all (after a
    withdrawal): nothing to step up with (``ways_in.Methods.confirm_methods``). Not the
    same as "no way in *now*": a passkey the kill switch or the rollout keeps from signing
    in still confirms it's the person inside a live session, so neither a switch nor the
    country header a request arrives with exempts a session from step-up (decision 0013;
    an old session that could, could set up a password + code of its own: a takeover)."""
    return not ways_in.methods_of(db.session, current_user.id).any_registered


def may_act_without_step_up() -> bool:
    """Nobody is stranded (issue 14 item 4): set up a new way in (a passkey, or password +
    code) or delete the account, without step-up, from a restricted (recovery-code)
    session or from a session of an account with nothing left to confirm with. Any other
    session needs a recent sign-in (step-up). Signing out never needs anything."""
    active = current_session()
    if active is None:
        return False
    return active.restricted or has_recent_auth() or has_nothing_to_confirm_with()


def may_withdraw_without_step_up() -> bool:
    """Withdrawing consent is one click, except when it would leave the account with
    nothing to confirm with (passkeys only, no password + code): then it needs a recent
    sign-in, like adding a passkey (decision 0013). Otherwise an old session could
    withdraw and, with nothing left to step up with, set up a password + code of its own."""
    if has_recent_auth():
        return True
    return not ways_in.methods_of(db.session, current_user.id).withdrawal_leaves_nothing


#: Step-up: the person must have proved it is them within STEP_UP_SECONDS, with a passkey
#: or password + code of this same account. A restricted session never counts. Apply
#: *below* ``login_required``.
require_recent_auth = _step_up_guard(lambda: has_recent_auth())
#: Step-up, except where ``may_act_without_step_up`` (adding a way in, deleting the
#: account). Apply *below* ``login_required`` (and ``allow_restricted``).
require_recent_auth_unless_stranded = _step_up_guard(lambda: may_act_without_step_up())


def has_recent_auth() -> bool:
    active = current_session()
    if active is None or active.restricted:
        return False
    window = timedelta(seconds=current.settings().STEP_UP_SECONDS)
    return clock.now() - active.authenticated_at < window
