"""Guessing protection for passwords, codes and recovery codes (Flask-Limiter).

Limits are stacked per minute, hour and day, and kept twice: per client address and per
account. Each is one budget, shared by every way of guessing (password + code sign-in,
recovery codes, step-up with password + code), so spreading attempts over routes gains
nothing (:func:`guessing`). The address key is a keyed hash (authdemo.ratelimit). The
account key is an HMAC of the normalised username, so the limiter storage (Redis in
production) never holds usernames, and unknown usernames are throttled exactly like real
ones. Only failures count. Windows slide, so a stranger can slow an account
down but never lock it out for good, and no account takes more than 100 failures a day
(NIST SP 800-63B-4 §3.2.2).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TypeVar

from flask import request
from flask.wrappers import Response

from authdemo import current
from authdemo.extensions import limiter

ACCOUNT_SCOPE = "account-guessing"
ADDRESS_SCOPE = "address-guessing"

F = TypeVar("F", bound=Callable[..., object])


def guessing(
    account_key: Callable[[], str], *, methods: list[str] | None = None
) -> Callable[[F], F]:
    """The two guessing budgets of a view that checks a password, code or recovery code:
    one per client address and one per account, each shared with every other such view.
    Only failures count (``deduct_when``): a request is let through while the budget has
    room and counted once its answer is a refusal, so with k requests in flight at most
    N + k - 1 failures pass (docs/decisions/0015-limits-as-shipped.md)."""
    per_address = limiter.shared_limit(
        ip_limits, scope=ADDRESS_SCOPE, methods=methods, deduct_when=failed
    )
    per_account = limiter.shared_limit(
        account_limits,
        scope=ACCOUNT_SCOPE,
        key_func=account_key,
        methods=methods,
        deduct_when=failed,
    )

    def decorate(view: F) -> F:
        return per_address(per_account(view))  # type: ignore[return-value]

    return decorate


def account_key_for(username: str) -> str:
    normalised = unicodedata.normalize("NFKC", username).casefold().strip()[:256]
    return "acct:" + current.keyed_hash("limiter-key").digest(normalised.encode()).hex()[:32]


def account_id_key_for(user_id: str) -> str:
    """Limiter key of an account by its id, for limits a rename must not restart (profile
    changes): a keyed hash, like every other limiter key, so the store holds no account id."""
    return "acct-id:" + current.keyed_hash("limiter-key").digest(user_id.encode()).hex()[:32]


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
