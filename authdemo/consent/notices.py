"""The plain-language notices people agree to: one place, versioned, hashed.

Every page that asks for consent renders the notice from here, and the compliance
documents cite this module, so what people read, what the ledger records and what the
documents describe cannot drift apart. The ledger stores the version *and* the SHA-256
of the exact text (docs/decisions/0010-consent-ledger.md), so a record still proves what
was shown after this file changes.

The hash covers ``Notice.full_text`` (the title, the short summary a person reads first
when there is one, and the text, separated by blank lines), and compliance/notice-pins.json
pins the hash of every published version per language: ``flask compliance check`` fails
on any edit of a published text (docs/decisions/0017-pinned-notices-and-deployment-facts.md).
What varies per deployment (who the controller is, retention periods) is not in the
pinned text: see ``authdemo.consent.facts``. Text format:
paragraphs separated by a blank line; a paragraph whose lines start with
"- " is a bulleted list. Pages render it without rewording (``Notice.blocks``). Never edit
a published version: add a new one, and set ``material`` when the change alters what
people agreed to (who gets what data, or what for), so they are asked again
(GDPR Art 7(1); EDPB Guidelines 05/2020 §3.2 specific and §3.3 informed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

#: The one consent purpose: creating and using passkeys. The device may unlock a passkey
#: with face, fingerprint or PIN; the server cannot tell which and never receives any of
#: it. Security keys are passkeys too. Password + one-time code needs no consent.
PASSKEY_SIGNIN = "passkey_signin"

VERSION_MAX = 16  # consent_events.notice_version
#: The language every notice is published in today (ISO 639-1); translations are new,
#: separately pinned texts of the same version.
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph, or one bulleted list (``items``), of a notice."""

    text: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    purpose: str
    version: str
    published: date
    #: True when people who agreed to an earlier version must be asked again.
    material: bool
    title: str
    text: str
    #: What changed since the previous version, in plain language ("" for the first).
    changes: str = ""
    #: The short layer a person reads first (GDPR Art 12(1); Article 29 WP Guidelines on
    #: transparency, WP260 rev.01, on layered notices). Part of the pinned text.
    summary: str = ""
    language: str = DEFAULT_LANGUAGE
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.version or len(self.version) > VERSION_MAX:
            raise ValueError(f"notice version must be 1-{VERSION_MAX} characters")
        for part in (self.text, self.summary):
            if part != part.strip() or "\r" in part:
                raise ValueError("notice text must be trimmed and use \\n line ends")
        object.__setattr__(self, "sha256", notice_sha256(self.full_text))

    @property
    def full_text(self) -> str:
        """Everything a page shows of the notice, title first: what the hash covers.
        (Version 1 has no summary; its text, and so its hash, is the title and the body.)"""
        if self.summary:
            return f"{self.title}\n\n{self.summary}\n\n{self.text}"
        return f"{self.title}\n\n{self.text}"

    @property
    def blocks(self) -> tuple[Block, ...]:
        """The text as paragraphs and lists, for templates (the words are unchanged)."""
        blocks: list[Block] = []
        for paragraph in self.text.split("\n\n"):
            lines = paragraph.split("\n")
            if all(line.startswith("- ") for line in lines):
                blocks.append(Block(items=tuple(line[2:] for line in lines)))
            else:
                blocks.append(Block(text=" ".join(lines)))
        return tuple(blocks)


def notice_sha256(text: str) -> str:
    """SHA-256 (lower-case hex) of the notice text as UTF-8: what the ledger records."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class NoticeBook:
    """All published versions, oldest first, per purpose."""

    def __init__(self, notices: Iterable[Notice]) -> None:
        self._by_purpose: dict[str, list[Notice]] = {}
        for notice in notices:
            versions = self._by_purpose.setdefault(notice.purpose, [])
            if any(n.version == notice.version for n in versions):
                raise ValueError(f"duplicate notice version {notice.purpose}/{notice.version}")
            if versions and notice.published < versions[-1].published:
                raise ValueError("notices must be listed oldest first")
            versions.append(notice)

    def current(self, purpose: str = PASSKEY_SIGNIN) -> Notice:
        return self._by_purpose[purpose][-1]

    def versions(self, purpose: str = PASSKEY_SIGNIN) -> tuple[Notice, ...]:
        return tuple(self._by_purpose.get(purpose, ()))

    def get(self, purpose: str, version: str) -> Notice | None:
        return next((n for n in self.versions(purpose) if n.version == version), None)

    def material_change_since(self, purpose: str, version: str) -> bool:
        """True if a version published after ``version`` is material (or ``version`` is
        not one we know, in which case nobody can say what was agreed to)."""
        versions = self.versions(purpose)
        index = next((i for i, n in enumerate(versions) if n.version == version), None)
        if index is None:
            return True
        return any(n.material for n in versions[index + 1 :])


PASSKEY_NOTICE_V1 = Notice(
    purpose=PASSKEY_SIGNIN,
    version="1",
    published=date(2026, 1, 1),
    material=True,
    title="Signing in with a passkey",
    text="""\
A passkey lets you sign in without a password. Your phone, computer or security key keeps \
a secret key for this site, and checks it's you with your face, your fingerprint or your \
screen-lock PIN before using it.

- That check happens only on your device. Your face, fingerprint and PIN are never sent \
to us and we never store them. We can't even tell which one you used.
- For each passkey we store: its public key and credential ID, the kind of key, a counter \
your device increases each time you use it, how your device connects to it, the model \
number of the passkey provider, whether it can be and is synced, its name on your account \
page, and when it was created and last used.
- If your passkey is synced, your passkey provider (for example Apple, Google, Microsoft \
or a password manager) also stores it, together with your username, under that \
provider's own terms.
- Security keys are passkeys too: all of this applies to them as well.
- We use passkeys only to sign you in and to confirm it's you before important changes.
- We keep a record of your choice (which version of this text you saw, when, and on \
which page) to be able to show what you agreed to.

Saying no costs you nothing: a password with a one-time code works just as well. You can \
change your mind at any time on your account page, in one click. We then delete your \
passkeys from our records at once.""",
)

PASSKEY_NOTICE_V2 = Notice(
    purpose=PASSKEY_SIGNIN,
    version="2",
    published=date(2026, 12, 4),
    # Not material: nothing we or the provider process changed (issue 16 items 5 and 15;
    # docs/decisions/0017-pinned-notices-and-deployment-facts.md gives both readings).
    material=False,
    title="Signing in with a passkey",
    summary="""\
Optional: sign in with your device's screen lock instead of a password. Your face, \
fingerprint and PIN never leave your device. Saying no costs you nothing, and you can \
change your mind at any time.""",
    text="""\
A passkey lets you sign in without a password. Your phone, computer or security key keeps \
a secret key for this site, and checks it's you with your face, your fingerprint or your \
screen-lock PIN before using it.

- That check happens only on your device. Your face, fingerprint and PIN are never sent \
to us and we never store them. We can't even tell which one you used.
- For each passkey we store: its public key and credential ID, the kind of key, a counter \
your device increases each time you use it, how your device connects to it, the model \
number of the passkey provider, whether it can be and is synced, its name on your account \
page, and when it was created and last used.
- When you create a passkey, your device or passkey provider (for example Apple, Google, \
Microsoft or a password manager) receives your username and your display name with it, \
so it can show you which account the passkey is for. If your passkey is synced, the \
provider also stores it, together with your username and display name, under that \
provider's own terms.
- Security keys are passkeys too: all of this applies to them as well.
- We use passkeys only to sign you in and to confirm it's you before important changes.
- We keep a record of your choice (which version of this text you saw, when, and on \
which page) to be able to show what you agreed to, for as long as the facts below say.

Saying no costs you nothing: you can sign in with a password and a one-time code instead, \
with the same access to everything. The two differ in one way: a passkey works only on \
this site, so a fake site cannot trick you into giving it away; a password and a code can \
be typed into a fake site, so check the address before you enter them. You can change \
your mind at any time on your account page, in one click. We then delete your passkeys \
from our records at once.""",
    changes=(
        "Says plainly how a passkey and a password with a one-time code differ (only the "
        "password and code can be phished), that your device or passkey provider also "
        "receives your display name, and how long the record of your choice is kept; adds "
        "a short summary. Nothing we do with your data changed, so nobody is asked again."
    ),
)

PASSKEY_NOTICE_V3 = Notice(
    purpose=PASSKEY_SIGNIN,
    version="3",
    published=date(2026, 12, 5),
    # Not material: what is processed and why did not change; only how withdrawing works
    # from an old session (docs/decisions/0013, the takeover amendment).
    material=False,
    title="Signing in with a passkey",
    summary="""\
Optional: sign in with your device's screen lock instead of a password. Your face, \
fingerprint and PIN never leave your device. Saying no costs you nothing, and you can \
change your mind at any time.""",
    text="""\
A passkey lets you sign in without a password. Your phone, computer or security key keeps \
a secret key for this site, and checks it's you with your face, your fingerprint or your \
screen-lock PIN before using it.

- That check happens only on your device. Your face, fingerprint and PIN are never sent \
to us and we never store them. We can't even tell which one you used.
- For each passkey we store: its public key and credential ID, the kind of key, a counter \
your device increases each time you use it, how your device connects to it, the model \
number of the passkey provider, whether it can be and is synced, its name on your account \
page, and when it was created and last used.
- When you create a passkey, your device or passkey provider (for example Apple, Google, \
Microsoft or a password manager) receives your username and your display name with it, \
so it can show you which account the passkey is for. If your passkey is synced, the \
provider also stores it, together with your username and display name, under that \
provider's own terms.
- Security keys are passkeys too: all of this applies to them as well.
- We use passkeys only to sign you in and to confirm it's you before important changes.
- We keep a record of your choice (which version of this text you saw, when, and on \
which page) to be able to show what you agreed to, for as long as the facts below say.

Saying no costs you nothing: you can sign in with a password and a one-time code instead, \
with the same access to everything. The two differ in one way: a passkey works only on \
this site, so a fake site cannot trick you into giving it away; a password and a code can \
be typed into a fake site, so check the address before you enter them. You can change \
your mind at any time on your account page, and we then delete your passkeys from our \
records at once. It takes one click; only if a passkey is your only way to sign in and you \
signed in more than a few minutes ago do we first ask you to confirm it's you with that \
passkey, so that nobody who finds your device still signed in can lock you out.""",
    changes=(
        "Says when withdrawing takes one more step: if a passkey is your only way to sign "
        "in and you signed in more than a few minutes ago, you first confirm it's you with "
        "it. Nothing we do with your data changed, so nobody is asked again."
    ),
)

#: Every version ever published, oldest first. Add new versions at the end.
NOTICES = NoticeBook([PASSKEY_NOTICE_V1, PASSKEY_NOTICE_V2, PASSKEY_NOTICE_V3])
