"""Guessing protection for passwords, codes and recovery codes (Flask-Limiter).

Limits are stacked per minute, hour and day, and kept twice: per client address and per
account. The account budget is one, shared by every way of guessing (password + code
sign-in, recovery codes, step-up), so spreading attempts over routes gains nothing. The
account key is an HMAC of the normalised username, so the limiter storage (Redis in
production) never holds usernames, and unknown usernames are throttled exactly like real
ones. Only failures count. Windows slide, so a stranger can slow an account
down but never lock it out for good, and no account takes more than 100 failures a day
(NIST SP 800-63B-4 §3.2.2).
"""

from __future__ import annotations

import unicodedata

from flask import request
from flask.wrappers import Response

from authdemo import current

ACCOUNT_SCOPE = "account-guessing"


def account_key_for(username: str) -> str:
    normalised = unicodedata.normalize("NFKC", username).casefold().strip()[:256]
    return "acct:" + current.keyed_hash("limiter-key").digest(normalised.encode()).hex()[:32]


def account_key() -> str:
    """Limiter key of the account named in the submitted form."""
    username = request.form.get("username", "")
    return account_key_for(username if isinstance(username, str) else "")


def signed_in_account_key() -> str:
    """Limiter key of the signed-in person (step-up has no username field)."""
    from flask_login import current_user

    return account_key_for(current_user.username if current_user.is_authenticated else "")


def ip_limits() -> str:
    return current.settings().RATELIMIT_PASSWORD_IP


def account_limits() -> str:
    return current.settings().RATELIMIT_PASSWORD_ACCOUNT


def failed(response: Response) -> bool:
    """Only failed attempts count towards the limits."""
    return response.status_code >= 400
