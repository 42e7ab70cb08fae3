"""The sign-up in progress in this browser.

The first step (``/signup``) checks the username and display name and keeps them in the
signed cookie session until the account exists, whichever way the person then chooses
(a passkey, or a password + code). It also mints the id the account will have: the pilot
cohort is drawn from that id (authdemo/pilot/cohort.py), so the offer made at sign-up and
the cohort of the account afterwards are one draw, whichever way the account is created.
The id is random (``new_user_id``), already the one thing the signed cookie names once
the person is signed in, and nothing else is derived from it. Read the sign-up only
through ``current()`` / ``require()``: a cookie written by an older version of the app,
or none at all, is simply no sign-up in progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import session as cookie
from flask_babel import gettext as _

from authdemo.errors import InvalidInput
from authdemo.models.user import new_user_id

#: Cookie-session key (a name, not a secret).
KEY = "signup"
#: What ``new_user_id`` makes (128 random bits, hex).
_ACCOUNT_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class PendingSignUp:
    username: str
    display_name: str | None
    #: The id the account will be created with (passkey or password + code).
    account_id: str


def start(username: str, display_name: str | None) -> None:
    """Remember the checked (normalised) username and display name for the next steps.

    Another username is another sign-up: a new account id, so a new draw of the pilot
    cohort. The same username again (the Back button, a corrected display name) is the
    same sign-up and keeps its id, and so its cohort."""
    previous = current()
    if previous is not None and previous.username == username:
        account_id = previous.account_id
    else:
        account_id = new_user_id()
    cookie[KEY] = {"username": username, "display_name": display_name, "account_id": account_id}


def current() -> PendingSignUp | None:
    value = cookie.get(KEY)
    if not isinstance(value, dict):
        return None
    username, display_name = value.get("username"), value.get("display_name")
    account_id = value.get("account_id")
    if not isinstance(username, str) or not isinstance(display_name, str | None):
        return None
    if not isinstance(account_id, str) or not _ACCOUNT_ID.fullmatch(account_id):
        return None
    return PendingSignUp(username, display_name, account_id)


def require() -> PendingSignUp:
    """For the JSON steps: no sign-up in progress is a 400 that says what to do."""
    pending = current()
    if pending is None:
        raise InvalidInput(_("Please choose a username first."), field="username")
    return pending


def finish() -> None:
    """The account exists (or the sign-up was abandoned): forget the pending one."""
    cookie.pop(KEY, None)
