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

from flask_babel import gettext as _
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
        raise InvalidInput(_("Please enter a username."), field="username")
    if len(raw) > _RAW_MAX:
        raise InvalidInput(
            _("A username has at most %(max)s characters.", max=USERNAME_MAX), field="username"
        )
    name = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not name:
        raise InvalidInput(_("Please enter a username."), field="username")
    if len(name) < USERNAME_MIN or len(name) > USERNAME_MAX:
        raise InvalidInput(
            _("A username has %(min)s to %(max)s characters.", min=USERNAME_MIN, max=USERNAME_MAX),
            field="username",
        )
    if not _ALLOWED.fullmatch(name):
        raise InvalidInput(_broken_rule(name), field="username")
    return name


def _alphabet() -> str:
    return str(_("A username may use the letters a-z, digits, and . _ - inside it."))


def _display_name_hint() -> str:
    return str(_("Your name in any script can go in the display name."))


_PUNCTUATION = frozenset("._-")


def _shown(ch: str) -> str:
    """A character as the message may show it: itself when it is visible text, else its
    code point (a control or bidi character in an error would garble the page)."""
    if unicodedata.category(ch)[0] in "LNPS":
        # Translators: one character quoted in a message about a username; use your
        # language's quotation marks (German: „%(char)s“).
        return str(_("\u201c%(char)s\u201d", char=ch))
    return f"U+{ord(ch):04X}"


def _broken_rule(name: str) -> str:
    """Which rule a (normalised, non-empty) name breaks, first one found, in words: one
    sentence for the rule, then one that says what is allowed."""
    rule, hint = _first_broken_rule(name)
    return f"{rule} {hint}"


def _first_broken_rule(name: str) -> tuple[str, str]:
    for ch in name:
        if ch.isspace():
            return _("A username can't contain spaces."), _alphabet()
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch in _PUNCTUATION):
            continue
        base = unicodedata.normalize("NFKD", ch)[0]
        if base != ch and base.isascii() and base.isalpha():
            return _(
                "A username can't have accents (%(char)s): use %(base)s instead.",
                char=_shown(ch),
                base=base,
            ), _display_name_hint()
        if unicodedata.category(ch).startswith("M"):
            accent = _("A username can't have accents (%(char)s).", char=_shown(ch))
            return accent, _display_name_hint()
        if unicodedata.category(ch).startswith("L"):
            return _(
                "A username uses the letters a-z only; %(char)s is from another alphabet.",
                char=_shown(ch),
            ), _display_name_hint()
        return _("A username can't contain %(char)s.", char=_shown(ch)), _alphabet()
    if name[0] in _PUNCTUATION:
        return _("A username can't start with %(char)s.", char=_shown(name[0])), _alphabet()
    return _("A username can't end with %(char)s.", char=_shown(name[-1])), _alphabet()


def normalise_display_name(raw: object) -> str | None:
    """Any script is welcome; control and format characters are not (no spoofed text)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput(_("The display name must be text."), field="display_name")
    if len(raw) > _RAW_MAX:
        raise InvalidInput(_display_name_too_long(), field="display_name")
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not name:
        return None
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidInput(_display_name_too_long(), field="display_name")
    if any(
        unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} and ch not in _JOINERS
        for ch in name
    ):
        raise InvalidInput(
            _("The display name contains characters that can't be shown."), field="display_name"
        )
    return name


def _display_name_too_long() -> str:
    return str(_("A display name has at most %(max)s characters.", max=DISPLAY_NAME_MAX))


def username_taken(session: Session, username: str) -> bool:
    """Whether an account already has this (normalised) username."""
    return bool(session.execute(select(exists().where(User.username == username))).scalar())


def account_id_taken(session: Session, account_id: str) -> bool:
    """Whether an account already has the id a pending sign-up was started with
    (authdemo/signup/pending.py): the other unique thing a sign-up creates an account under."""
    return bool(session.execute(select(exists().where(User.id == account_id))).scalar())
