"""Password rules and hashing (NIST SP 800-63B-4 §3.1.1.2; OWASP Password Storage).

Here a password is always one of two factors (it never works without the one-time code),
so the minimum is 8 characters. No composition rules and no expiry. Any Unicode is
allowed, spaces included; text is NFKC-normalised so the same password typed on another
keyboard still matches. Common and breached passwords are refused by a 30,000-entry
blocklist: zxcvbn's "passwords" frequency list, built from leaked password corpora, shipped
as ``authdemo/data/common-passwords.txt`` (tools/common_passwords.py writes it; loading
zxcvbn itself would cost each worker about 17 MB instead of 4).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from authdemo.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int
    max_length: int


BLOCKLIST_FILE = "data/common-passwords.txt"


@cache
def _blocklist() -> frozenset[str]:
    """The casefolded common passwords, read on first use (``#`` lines are the header)."""
    text = resources.files("authdemo").joinpath(BLOCKLIST_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def blocklist_size() -> int:
    return len(_blocklist())


def normalise_password(raw: object, *, policy: PasswordPolicy) -> str:
    """NFKC-normalised password, or InvalidInput (the message says why, in plain words)."""
    if not isinstance(raw, str) or not raw:
        raise InvalidInput(_("Please enter a password."), field="password")
    if len(raw) > policy.max_length * 4:  # refuse absurd input before normalising it
        raise InvalidInput(_too_long(policy), field="password")
    password = unicodedata.normalize("NFKC", raw)
    if len(password) > policy.max_length:
        raise InvalidInput(_too_long(policy), field="password")
    return password


def check_new_password(raw: object, *, username: str, policy: PasswordPolicy) -> str:
    """Apply the rules for choosing a password; return the normalised password."""
    password = normalise_password(raw, policy=policy)
    if len(password) < policy.min_length:
        raise InvalidInput(
            _(
                "Please use at least %(min)s characters. A short phrase works well.",
                min=policy.min_length,
            ),
            field="password",
        )
    folded = password.casefold()
    if folded in _blocklist() or folded.strip() in _blocklist():
        raise InvalidInput(
            _(
                "That password is one of the most common ones, so it's easy to guess. "
                "Please choose another."
            ),
            field="password",
        )
    if username and username.casefold() in folded:
        raise InvalidInput(
            _("Please don't include your username in the password."), field="password"
        )
    if len(set(password)) == 1:
        raise InvalidInput(_("Please don't repeat a single character."), field="password")
    return password


def _too_long(policy: PasswordPolicy) -> str:
    return str(_("A password can have at most %(max)s characters.", max=policy.max_length))


class Hasher:
    """argon2id with configurable cost; also verifies a dummy hash for unknown usernames,
    so "no such user" costs the same work as "wrong password"."""

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._hasher.hash("dummy password for unknown accounts")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend the same effort as a real check; the answer is always "no"."""
        self.verify(self._dummy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
