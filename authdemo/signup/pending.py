"""The sign-up in progress in this browser.

The first step (``/signup``) checks the username and display name and keeps them in the
signed cookie session until the account exists, whichever way the person then chooses
(a passkey, or a password + code). Read it only through ``current()`` / ``require()``:
a cookie written by an older version of the app, or none at all, is simply no sign-up in
progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session as cookie

from authdemo.errors import InvalidInput

#: Cookie-session key (a name, not a secret).
KEY = "signup"


@dataclass(frozen=True, slots=True)
class PendingSignUp:
    username: str
    display_name: str | None


def start(username: str, display_name: str | None) -> None:
    """Remember the checked (normalised) username and display name for the next steps."""
    cookie[KEY] = {"username": username, "display_name": display_name}


def current() -> PendingSignUp | None:
    value = cookie.get(KEY)
    if not isinstance(value, dict):
        return None
    username, display_name = value.get("username"), value.get("display_name")
    if not isinstance(username, str) or not isinstance(display_name, str | None):
        return None
    return PendingSignUp(username, display_name)


def require() -> PendingSignUp:
    """For the JSON steps: no sign-up in progress is a 400 that says what to do."""
    pending = current()
    if pending is None:
        raise InvalidInput("Please choose a username first.", field="username")
    return pending


def finish() -> None:
    """The account exists (or the sign-up was abandoned): forget the pending one."""
    cookie.pop(KEY, None)
