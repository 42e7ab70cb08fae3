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

Languages (docs/decisions/0029-notices-per-language.md). A version is published in
English first; a translation is another text *of the same version*, listed after it with
its own ``language`` and its own pin, so adding one asks nobody again. A version is
"published in" exactly the languages it has a text in: versions 1 and 2 were only ever
shown in English and stay English only (nothing is made up for texts nobody read in
German). The current version of every purpose must exist in every shipped language
(``flask compliance check``), so a material change is a new version in all of them.
A page shows the text in the person's language when there is one, else the English text
and says so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

#: The one consent purpose: creating and using passkeys. The device may unlock a passkey
#: with face, fingerprint or PIN; the server cannot tell which and never receives any of
#: it. Security keys are passkeys too. Password + one-time code needs no consent.
PASSKEY_SIGNIN = "passkey_signin"

VERSION_MAX = 16  # consent_events.notice_version
#: The language every version is first published in (ISO 639-1), and the fallback where a
#: version has no text in the person's language. Translations are new, separately pinned
#: texts of the same version.
DEFAULT_LANGUAGE = "en"
LANGUAGE_MAX = 16  # consent_events.notice_language
#: Each notice language's name for itself, for the pages that list a version's languages.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


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
        if len(self.language) > LANGUAGE_MAX or not _LANGUAGE.fullmatch(self.language):
            raise ValueError(
                f"notice language must be a language code such as 'de': {self.language!r}"
            )
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
    """All published versions, oldest first, per purpose, each in every language it was
    published in (its English original first)."""

    def __init__(self, notices: Iterable[Notice]) -> None:
        #: The English original of each version, oldest first, per purpose.
        self._by_purpose: dict[str, list[Notice]] = {}
        #: Every text, by (purpose, version, language).
        self._texts: dict[tuple[str, str, str], Notice] = {}
        for notice in notices:
            key = (notice.purpose, notice.version, notice.language)
            if key in self._texts:
                raise ValueError(
                    f"duplicate notice version {notice.purpose}/{notice.version} "
                    f"({notice.language})"
                )
            if notice.language == DEFAULT_LANGUAGE:
                versions = self._by_purpose.setdefault(notice.purpose, [])
                if any(n.version == notice.version for n in versions):
                    raise ValueError(f"duplicate notice version {notice.purpose}/{notice.version}")
                if versions and notice.published < versions[-1].published:
                    raise ValueError("notices must be listed oldest first")
                versions.append(notice)
            else:
                _check_translation(notice, self._texts.get((*key[:2], DEFAULT_LANGUAGE)))
            self._texts[key] = notice

    def current(self, purpose: str = PASSKEY_SIGNIN, language: str | None = None) -> Notice:
        """The current version: its English original, or its text in ``language`` when
        there is one (else the English one: see :meth:`in_language`)."""
        original = self._by_purpose[purpose][-1]
        if language is None:
            return original
        return self.in_language(original, language)

    def versions(self, purpose: str = PASSKEY_SIGNIN) -> tuple[Notice, ...]:
        """The English original of every version, oldest first."""
        return tuple(self._by_purpose.get(purpose, ()))

    def get(self, purpose: str, version: str, language: str = DEFAULT_LANGUAGE) -> Notice | None:
        """Exactly the text of ``version`` in ``language``, or None if it was never
        published in that language."""
        return self._texts.get((purpose, version, language))

    def in_language(self, notice: Notice, language: str) -> Notice:
        """``notice``'s version in ``language`` if it was published in it, else its
        English original: the fallback a page must then say it shows."""
        found = self.get(notice.purpose, notice.version, language)
        if found is not None:
            return found
        original = self.get(notice.purpose, notice.version)
        assert original is not None  # every version has its English original
        return original

    def languages(self, purpose: str, version: str) -> tuple[str, ...]:
        """The languages ``version`` was published in, English first."""
        return tuple(language for (p, v, language) in self._texts if p == purpose and v == version)

    def texts(self, purpose: str = PASSKEY_SIGNIN) -> tuple[Notice, ...]:
        """Every published text of ``purpose``: version by version, oldest first, each
        version's English original first and then its translations."""
        return tuple(
            text
            for original in self.versions(purpose)
            for text in (
                self._texts[(purpose, original.version, language)]
                for language in self.languages(purpose, original.version)
            )
        )

    def material_change_since(self, purpose: str, version: str) -> bool:
        """True if a version published after ``version`` is material (or ``version`` is
        not one we know, in which case nobody can say what was agreed to)."""
        changed = self.material_versions_since(purpose, version)
        return changed is None or bool(changed)

    def material_versions_since(self, purpose: str, version: str) -> tuple[Notice, ...] | None:
        """The material versions published after ``version``, oldest first (their English
        originals): what changed what was agreed to. None when ``version`` is not one we
        know."""
        versions = self.versions(purpose)
        index = next((i for i, n in enumerate(versions) if n.version == version), None)
        if index is None:
            return None
        return tuple(n for n in versions[index + 1 :] if n.material)


def _check_translation(translation: Notice, original: Notice | None) -> None:
    """A translation is another text of a version already published in English: the
    same version (its ``material`` flag included), published on or after it."""
    name = f"{translation.purpose}/{translation.version} ({translation.language})"
    if original is None:
        raise ValueError(f"{name}: a translation follows the English text of its version")
    if translation.material != original.material:
        raise ValueError(f"{name}: a translation cannot change whether the version is material")
    if translation.published < original.published:
        raise ValueError(f"{name}: a translation cannot be older than its version")


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

#: Version 3 in German (published with it; asks nobody again: the same version). A careful
#: translation, not a native legal review: listed in the DPIA's open items as "needs native
#: legal review (de)". Terms follow the German text of the GDPR (DSGVO).
PASSKEY_NOTICE_V3_DE = Notice(
    purpose=PASSKEY_SIGNIN,
    version="3",
    language="de",
    published=date(2026, 12, 5),
    material=False,
    title="Anmelden mit einem Passkey",
    summary="""\
Freiwillig: Melden Sie sich mit der Bildschirmsperre Ihres Geräts an statt mit einem \
Passwort. Ihr Gesicht, Ihr Fingerabdruck und Ihre PIN verlassen Ihr Gerät nie. Wenn Sie \
ablehnen, entsteht Ihnen kein Nachteil, und Sie können Ihre Entscheidung jederzeit ändern.""",
    text="""\
Mit einem Passkey melden Sie sich ohne Passwort an. Ihr Smartphone, Ihr Computer oder Ihr \
Sicherheitsschlüssel bewahrt einen geheimen Schlüssel für diese Website auf. Bevor dieser \
verwendet wird, prüft das Gerät mit Ihrem Gesicht, Ihrem Fingerabdruck oder der PIN Ihrer \
Bildschirmsperre, dass Sie es sind.

- Diese Prüfung findet nur auf Ihrem Gerät statt. Ihr Gesicht, Ihr Fingerabdruck und Ihre \
PIN werden nie an uns übermittelt, und wir speichern sie nie. Wir können nicht einmal \
erkennen, was davon Sie verwendet haben.
- Zu jedem Passkey speichern wir: seinen öffentlichen Schlüssel und seine Kennung \
(Credential-ID), die Art des Schlüssels, einen Zähler, den Ihr Gerät bei jeder Verwendung \
erhöht, wie Ihr Gerät mit ihm verbunden ist, die Modellnummer des Passkey-Anbieters, ob er \
synchronisiert werden kann und ob er synchronisiert wird, seinen Namen auf Ihrer \
Kontoseite sowie wann er erstellt und zuletzt verwendet wurde.
- Wenn Sie einen Passkey erstellen, erhält Ihr Gerät oder Ihr Passkey-Anbieter (z. B. \
Apple, Google, Microsoft oder ein Passwortmanager) dazu Ihren Benutzernamen und Ihren \
Anzeigenamen, damit Ihnen angezeigt werden kann, für welches Konto der Passkey gilt. Wenn Ihr \
Passkey synchronisiert wird, speichert ihn auch der Anbieter, zusammen mit Ihrem \
Benutzernamen und Anzeigenamen, nach seinen eigenen Bedingungen.
- Auch Sicherheitsschlüssel sind Passkeys: All dies gilt auch für sie.
- Wir verwenden Passkeys nur, um Sie anzumelden und um vor wichtigen Änderungen zu \
bestätigen, dass Sie es sind.
- Wir bewahren einen Nachweis Ihrer Entscheidung auf (welche Version dieses Textes Sie \
gesehen haben, wann und auf welcher Seite), um zeigen zu können, worin Sie eingewilligt \
haben, und zwar so lange, wie es die Angaben unten nennen.

Wenn Sie ablehnen, entsteht Ihnen kein Nachteil: Sie können sich stattdessen mit einem \
Passwort und einem Einmalcode anmelden und haben damit denselben Zugang zu allem. Die \
beiden unterscheiden sich in einem Punkt: Ein Passkey funktioniert nur auf dieser Website, \
daher kann eine gefälschte Website Sie nicht dazu bringen, ihn preiszugeben; ein Passwort \
und ein Code können auf einer gefälschten Website eingegeben werden, prüfen Sie deshalb die \
Adresse, bevor Sie sie eingeben. Sie können Ihre Entscheidung jederzeit auf Ihrer \
Kontoseite ändern, und wir löschen Ihre Passkeys dann sofort bei uns. Dafür \
genügt ein Klick; nur wenn ein Passkey Ihre einzige Möglichkeit zur Anmeldung ist und Ihre \
Anmeldung mehr als einige Minuten zurückliegt, bitten wir Sie zuerst, mit diesem Passkey \
zu bestätigen, dass Sie es sind, damit niemand, der Ihr Gerät noch angemeldet vorfindet, \
Sie aussperren kann.""",
    changes=(
        "Sagt, wann der Widerruf einen Schritt mehr braucht: Wenn ein Passkey Ihre einzige "
        "Möglichkeit zur Anmeldung ist und Ihre Anmeldung mehr als einige Minuten "
        "zurückliegt, bestätigen Sie zuerst mit ihm, dass Sie es sind. An dem, was wir mit "
        "Ihren Daten tun, hat sich nichts geändert, daher wird niemand erneut gefragt."
    ),
)

#: Every version ever published, oldest first, each English original before its
#: translations. Add new versions (in every shipped language) at the end; never edit or
#: remove a published text, and never add a translation to a superseded version that
#: nobody was shown in that language.
NOTICES = NoticeBook(
    [PASSKEY_NOTICE_V1, PASSKEY_NOTICE_V2, PASSKEY_NOTICE_V3, PASSKEY_NOTICE_V3_DE]
)
