"""The renewal page (/account/passkeys/consent/renew) as a person meets it, in English and
German, after signing in (issue 19 review).

It says why they are asked, in a sentence that is true for their account: a material
change to what they agreed to, no agreement on record (an account whose passkeys are
older than the consent ledger), a "no" on record, or a grant of a version this deployment
has no text of. It tells a person with a password and code that those keep working, and
tells a person whose passkeys are their only way in, before the "no", that it would leave
them no way in, with the ways to set one up first.

The expected sentences are written out here, as a person reads them; none is taken from
the code or the catalogue.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import delete, insert, select

from authdemo.clock import FrozenClock
from authdemo.consent import web
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, Notice, NoticeBook
from authdemo.extensions import db
from authdemo.models import ConsentEvent
from tests.conftest import Browser
from tests.functional.test_account_pages_in_german import visible
from tests.functional.test_consent_support import (
    MATERIAL_NEXT,
    publish,
    sign_up_with_passkey,
    user_id,
)
from tests.functional.test_consent_withdrawal import add_password_and_code
from tests.support.authenticator import SoftwareAuthenticator

RENEW = "/account/passkeys/consent/renew"
GERMAN = "de-DE,de;q=0.9,en;q=0.5"

#: A version a deployment published and then rolled back: a grant of it names a text the
#: running deployment does not have.
ROLLED_BACK = Notice(
    purpose=PASSKEY_SIGNIN,
    version="test-rolled-bk",
    published=date(2027, 1, 1),
    material=False,
    title="Signing in with a passkey",
    text="A text this deployment no longer has.",
    changes="A change that was rolled back.",
)
#: A wording fix published after the material change: it asks nobody, and its note
#: ("nobody is asked again") is not why anybody is asked.
WORDING_AFTER = Notice(
    purpose=PASSKEY_SIGNIN,
    version="test-wording-2",
    published=date(2027, 9, 1),
    material=False,
    title="Signing in with a passkey",
    text="The material text, in clearer words.",
    changes="Clearer wording; nothing else changed, so nobody is asked again.",
)

#: Why the person is asked -> what the page says, in each language.
REASONS = {
    "no-record": {
        "en": "Your account has passkeys, but we have no record that you agreed to passkey "
        "sign-in, so we're asking you now.",
        "de": "Ihr Konto hat Passkeys, aber uns liegt kein Nachweis vor, dass Sie in die "
        "Passkey-Anmeldung eingewilligt haben; deshalb fragen wir Sie jetzt.",
    },
    "declined": {
        "en": "Your account has passkeys, but the last choice we have on record is that you "
        "said no thanks to passkey sign-in, so we're asking you now.",
        "de": "Ihr Konto hat Passkeys, aber laut Ihrer letzten Entscheidung, die uns "
        "vorliegt, haben Sie zur Passkey-Anmeldung „Nein, danke“ gesagt; deshalb fragen wir "
        "Sie jetzt.",
    },
    "withdrawn": {
        "en": "Your account has passkeys, but the last choice we have on record is that you "
        "withdrew your agreement to passkey sign-in, so we're asking you now.",
        "de": "Ihr Konto hat Passkeys, aber laut Ihrer letzten Entscheidung, die uns "
        "vorliegt, haben Sie Ihre Einwilligung in die Passkey-Anmeldung widerrufen; deshalb "
        "fragen wir Sie jetzt.",
    },
    "unknown-version": {
        "en": "Our record says you agreed to version test-rolled-bk of our passkey notice, "
        "but we have no text of that version, so we can't show you what you agreed to. "
        "That's why we're asking you again.",
        "de": "Laut unserem Nachweis haben Sie in Version test-rolled-bk unseres "
        "Passkey-Hinweises eingewilligt, aber uns liegt kein Text dieser Version vor; daher "
        "können wir Ihnen nicht zeigen, worin Sie eingewilligt haben. Deshalb fragen wir "
        "Sie erneut.",
    },
    "material-change": {
        "en": "You agreed to version 3 of our passkey notice. Version test-material changes "
        "what you agreed to, so we're asking you again.",
        "de": "Sie haben Version 3 unseres Passkey-Hinweises zugestimmt. Version "
        "test-material ändert, worin Sie eingewilligt haben; deshalb fragen wir Sie erneut.",
    },
}
#: What only a material change may say.
CHANGED = {
    "en": ("We've changed how passkeys work here", "What changed"),
    "de": ("Wir haben geändert, wie Passkeys hier funktionieren", "Was sich geändert hat"),
}
#: How the account page and the consent page point to the question, when a material
#: change asks again (True) and when something else does (False).
_ASKED = {
    "en": "We need to ask you whether you want to keep using passkeys. Read why and decide",
    "de": "Wir müssen Sie fragen, ob Sie weiterhin Passkeys verwenden möchten. Den Grund "
    "lesen und entscheiden",
}
LINKS = {
    "/account": {
        True: {
            "en": "We've changed how passkeys work here. Read what changed and decide",
            "de": "Wir haben geändert, wie Passkeys hier funktionieren. Lesen, was sich "
            "geändert hat, und entscheiden",
        },
        False: _ASKED,
    },
    "/account/passkeys/consent": {
        True: {
            "en": "This notice changed since you agreed. Review the change",
            "de": "Dieser Hinweis hat sich geändert, seit Sie zugestimmt haben. Änderung ansehen",
        },
        False: _ASKED,
    },
}
KEEPS_WORKING = {
    "en": "Your password and one-time code keep working whatever you decide.",
    "de": "Ihr Passwort und Ihr Einmalcode funktionieren weiter, wie auch immer Sie sich "
    "entscheiden.",
}
ONLY_WAY_IN = {
    "en": "Passkeys are your only way to sign in. If you withdraw, your passkeys are deleted "
    "and you won't be able to sign in again.",
    "de": "Passkeys sind Ihre einzige Möglichkeit, sich anzumelden.",
}
STOP = {
    "en": ("No, stop using passkeys", "No, stop using passkeys anyway"),
    "de": ("Nein, Passkeys nicht mehr verwenden", "Nein, Passkeys trotzdem nicht mehr verwenden"),
}
WAYS_FORWARD = ('id="offer-password-code"', 'id="offer-recovery-codes"')


def _ledger_rows(app: Flask, username: str) -> list[ConsentEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.user_ref == user_id(app, username))
                .order_by(ConsentEvent.id)
            )
        )


def _from_before_the_ledger(app: Flask, username: str) -> None:
    """What the database holds for an account whose passkeys are older than the consent
    ledger (migration 0002 made the table empty): passkeys, and no decision on record."""
    with app.app_context():
        db.session.execute(
            delete(ConsentEvent).where(ConsentEvent.user_ref == user_id(app, username))
        )
        db.session.commit()


def _a_no_on_record(app: Flask, username: str, action: str, clock: FrozenClock) -> None:
    """A ledger whose newest row is a "no" while the account still has passkeys. No page
    leads there today (a withdrawal deletes the passkeys in its own transaction); it is
    the state a restored backup or a second instance with a clock ahead would leave, and
    the question treats it as no agreement in force."""
    grant = _ledger_rows(app, username)[-1]
    with app.app_context():
        db.session.execute(
            insert(ConsentEvent).values(
                occurred_at=clock.now(),
                user_ref=grant.user_ref,
                purpose=grant.purpose,
                action=action,
                notice_version=grant.notice_version,
                notice_language=grant.notice_language,
                notice_sha256=grant.notice_sha256,
                facts_sha256=grant.facts_sha256,
                method="account:no-thanks-button",
            )
        )
        db.session.commit()


def _signed_up(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    clock.advance(seconds=30)


def _renewal_page(
    browser: Browser, authenticator: SoftwareAuthenticator, language: str
) -> tuple[str, str]:
    """Sign in with the passkey, in a browser set to ``language``, and follow the first
    page to the question: (its HTML, its visible text)."""
    browser.sign_out()
    if language == "de":
        browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    first = browser.client.get("/account")
    assert first.status_code == 302
    assert first.headers["Location"].startswith(f"{RENEW}?next=")
    shown = browser.client.get(first.headers["Location"])
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    lang, text = visible(html)
    assert lang == language
    return html, text


def _asked_because(
    reason: str,
    app: Flask,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
) -> None:
    """Bring alice's account into the state that asks her again for ``reason``."""
    if reason == "unknown-version":
        publish(app, ROLLED_BACK)
    _signed_up(app, browser, authenticator, clock)
    if reason == "no-record":
        _from_before_the_ledger(app, "alice")
    elif reason in ("declined", "withdrawn"):
        _a_no_on_record(app, "alice", reason, clock)
    elif reason == "unknown-version":
        app.extensions[web.NOTICES_EXTENSION] = NOTICES  # the deployment rolled back
    else:
        publish(app, MATERIAL_NEXT)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("reason", sorted(REASONS))
def test_each_reason_for_asking_again_says_its_own_true_sentence(
    app: Flask,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
    reason: str,
    language: str,
) -> None:
    _asked_because(reason, app, browser, authenticator, clock)
    _, text = _renewal_page(browser, authenticator, language)
    assert REASONS[reason][language] in text
    others = [r for r in REASONS if r != reason and REASONS[r][language] in text]
    assert others == []
    said_changed = [words for words in CHANGED[language] if words in text]
    if reason == "material-change":
        assert said_changed == list(CHANGED[language])
        assert MATERIAL_NEXT.changes in text
    else:
        # Nothing changed what they agreed to: no "We've changed ..." and no change note
        # (the current version's says nobody is asked again).
        assert said_changed == []
        assert NOTICES.current(PASSKEY_SIGNIN, language).changes not in text
    # The account page and the consent page link to the question, saying the same.
    for path, says in LINKS.items():
        _, linked = visible(browser.client.get(path).get_data(as_text=True))
        assert says[reason == "material-change"][language] in linked, path
        assert says[reason != "material-change"][language] not in linked, path


def test_a_material_change_shows_its_own_note_not_a_later_versions(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    _signed_up(app, browser, authenticator, clock)
    publish(app, MATERIAL_NEXT, WORDING_AFTER)
    html, text = _renewal_page(browser, authenticator, "en")
    assert "Version test-material changes what you agreed to, so we're asking you again." in text
    assert MATERIAL_NEXT.changes in text
    assert WORDING_AFTER.changes not in text
    # The text to agree to is the current one, the wording fix.
    assert f'data-notice-version="{WORDING_AFTER.version}"' in html


def test_two_material_changes_are_both_named_with_their_notes(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    second = replace(
        MATERIAL_NEXT,
        version="test-material2",
        published=date(2027, 8, 1),
        text="We now also keep where you created the passkey.",
        changes="We now keep one more field: where you created the passkey.",
    )
    _signed_up(app, browser, authenticator, clock)
    app.extensions[web.NOTICES_EXTENSION] = NoticeBook(
        [*NOTICES.texts(), MATERIAL_NEXT, second, WORDING_AFTER]
    )
    _, text = _renewal_page(browser, authenticator, "en")
    assert (
        "Versions test-material, test-material2 change what you agreed to, so we're asking "
        "you again." in text
    )
    assert MATERIAL_NEXT.changes in text
    assert second.changes in text
    assert WORDING_AFTER.changes not in text


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_passkey_only_person_is_warned_before_saying_no_and_offered_a_way_in(
    app: Flask,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
    language: str,
) -> None:
    _signed_up(app, browser, authenticator, clock)
    _from_before_the_ledger(app, "alice")
    html, text = _renewal_page(browser, authenticator, language)
    # No password or code to keep working: they have neither.
    assert KEEPS_WORKING[language] not in text
    # Warned, before the button that would leave them with no way in.
    anyway = STOP[language][1]
    assert ONLY_WAY_IN[language] in text
    assert anyway in text
    assert text.index(ONLY_WAY_IN[language]) < text.index(anyway)
    # The ways forward are offered, and open.
    for control in WAYS_FORWARD:
        assert control in html
        assert html.index(control) < html.index('id="reconsent-withdraw"')
    for path in ("/account/password-code/setup", "/account/password-code"):
        assert f'href="{path}"' in html
        assert browser.client.get(path).status_code == 200


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_person_with_a_password_and_code_is_told_they_keep_working(
    app: Flask,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
    language: str,
) -> None:
    _signed_up(app, browser, authenticator, clock)
    add_password_and_code(browser, clock)
    _from_before_the_ledger(app, "alice")
    html, text = _renewal_page(browser, authenticator, language)
    assert KEEPS_WORKING[language] in text
    assert ONLY_WAY_IN[language] not in text
    plain_no, anyway = STOP[language]
    assert plain_no in text
    assert anyway not in text
    assert 'id="only-way-in"' not in html
