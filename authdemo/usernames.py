"""Username rules: normalised, length-limited and confusable-safe by construction.

NFKC folds compatibility forms (full-width "jo", U+FF4A U+FF4F, becomes "jo"), casefold
makes "Jo" and "jo" one name, and the allowed alphabet after that is ASCII letters,
digits, ".", "_" and "-". Letters from other scripts are refused rather than risk
look-alikes such as Cyrillic U+0430 for Latin "a" (Unicode UTS #39). People's names in
any script belong in the optional display name, which is never used to identify anyone.
See docs/decisions/0004-usernames.md.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from authdemo.errors import InvalidInput
from authdemo.models.user import DISPLAY_NAME_MAX, USERNAME_MAX, User

USERNAME_MIN = 3
_ALLOWED = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")
#: Zero-width (non-)joiners are format characters that Persian, Indic scripts and emoji
#: sequences need; every other format or control character is refused.
_JOINERS = {"\u200c", "\u200d"}
#: Raw input longer than this is refused before normalisation does any work.
_RAW_MAX = 256


def normalise_username(raw: object) -> str:
    """Return the canonical username or raise InvalidInput saying what is wrong."""
    if not isinstance(raw, str):
        raise InvalidInput("Please enter a username.", field="username")
    if len(raw) > _RAW_MAX:
        raise InvalidInput(f"A username has at most {USERNAME_MAX} characters.", field="username")
    name = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not name:
        raise InvalidInput("Please enter a username.", field="username")
    if len(name) < USERNAME_MIN or len(name) > USERNAME_MAX:
        raise InvalidInput(
            f"A username has {USERNAME_MIN} to {USERNAME_MAX} characters.", field="username"
        )
    if not _ALLOWED.fullmatch(name):
        raise InvalidInput(_broken_rule(name), field="username")
    return name


_ALPHABET = "A username may use the letters a-z, digits, and . _ - inside it."
_DISPLAY_NAME = "Your name in any script can go in the display name."
_PUNCTUATION = frozenset("._-")


def _shown(ch: str) -> str:
    """A character as the message may show it: itself when it is visible text, else its
    code point (a control or bidi character in an error would garble the page)."""
    if unicodedata.category(ch)[0] in "LNPS":
        return f"\u201c{ch}\u201d"
    return f"U+{ord(ch):04X}"


def _broken_rule(name: str) -> str:
    """Which rule a (normalised, non-empty) name breaks, first one found, in words."""
    for ch in name:
        if ch.isspace():
            return f"A username can't contain spaces. {_ALPHABET}"
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch in _PUNCTUATION):
            continue
        base = unicodedata.normalize("NFKD", ch)[0]
        if base != ch and base.isascii() and base.isalpha():
            return (
                f"A username can't have accents ({_shown(ch)}): use {base} instead. {_DISPLAY_NAME}"
            )
        if unicodedata.category(ch).startswith("M"):
            return f"A username can't have accents ({_shown(ch)}). {_DISPLAY_NAME}"
        if unicodedata.category(ch).startswith("L"):
            return (
                f"A username uses the letters a-z only; {_shown(ch)} is from another "
                f"alphabet. {_DISPLAY_NAME}"
            )
        return f"A username can't contain {_shown(ch)}. {_ALPHABET}"
    if name[0] in _PUNCTUATION:
        return f"A username can't start with {_shown(name[0])}. {_ALPHABET}"
    return f"A username can't end with {_shown(name[-1])}. {_ALPHABET}"


def normalise_display_name(raw: object) -> str | None:
    """Any script is welcome; control and format characters are not (no spoofed text)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput("The display name must be text.", field="display_name")
    if len(raw) > _RAW_MAX:
        raise InvalidInput(
            f"A display name has at most {DISPLAY_NAME_MAX} characters.", field="display_name"
        )
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not name:
        return None
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidInput(
            f"A display name has at most {DISPLAY_NAME_MAX} characters.", field="display_name"
        )
    if any(
        unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} and ch not in _JOINERS
        for ch in name
    ):
        raise InvalidInput(
            "The display name contains characters that can't be shown.", field="display_name"
        )
    return name


def username_taken(session: Session, username: str) -> bool:
    """Whether an account already has this (normalised) username."""
    return bool(session.execute(select(exists().where(User.username == username))).scalar())


def account_id_taken(session: Session, account_id: str) -> bool:
    """Whether an account already has the id a pending sign-up was started with
    (authdemo/signup/pending.py): the other unique thing a sign-up creates an account under."""
    return bool(session.execute(select(exists().where(User.id == account_id))).scalar())
