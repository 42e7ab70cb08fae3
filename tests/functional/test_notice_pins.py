"""Published notices are pinned, and the ledger and the deployment facts can be audited
(issue 16 items 2, 5 and 15).

Everything here goes through what an operator or an auditor uses: the ``flask compliance``
commands, the consent pages as a browser gets them, and the ledger read from the database.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from authdemo.compliance import cli as compliance_cli
from authdemo.compliance import notices as pins
from authdemo.consent import notices as source
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, NoticeBook
from authdemo.extensions import db
from authdemo.models import ConsentEvent
from tests.conftest import Browser, make_app
from tests.functional.test_consent_support import page, sign_up_with_passkey
from tests.support.authenticator import SoftwareAuthenticator

REPO = Path(__file__).resolve().parents[2]


def facts_shown(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The deployment-facts block as a person reads it, and the hash the page declares."""
    block = re.search(
        r'<dl class="deployment-facts" data-facts-sha256="([0-9a-f]{64})">(.*?)</dl>',
        text,
        re.S,
    )
    assert block is not None
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block.group(2), re.S)
    return block.group(1), [(html.unescape(k), html.unescape(v)) for k, v in pairs]


def test_an_in_place_edit_followed_by_notices_write_is_refused_and_fails_the_check(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = tmp_path / "compliance"
    shutil.copytree(REPO / "compliance", pack)
    monkeypatch.setattr(compliance_cli, "PACK", pack)
    runner = app.test_cli_runner()
    assert "edited after publication" not in runner.invoke(args=["compliance", "check"]).output

    v1, *later = NOTICES.versions(PASSKEY_SIGNIN)
    reworded = replace(v1, text=v1.text.replace("works just as well", "is equally strong"))
    monkeypatch.setattr(source, "NOTICES", NoticeBook([reworded, *later]))  # the edit
    pinned = (pack / pins.PINS_FILE).read_bytes()
    notices_md = (pack / pins.NOTICES_FILE).read_bytes()

    written = runner.invoke(args=["compliance", "notices", "--write"])
    assert written.exit_code != 0
    assert "refused, nothing written" in written.output
    assert (pack / pins.PINS_FILE).read_bytes() == pinned
    assert (pack / pins.NOTICES_FILE).read_bytes() == notices_md

    checked = runner.invoke(args=["compliance", "check"])
    assert checked.exit_code == 1
    assert "notice passkey_signin v1 (en) was edited after publication" in checked.output


def test_the_ledger_command_accepts_pinned_hashes_and_fails_on_any_other(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["compliance", "ledger"])
    assert clean.exit_code == 0, clean.output
    assert "1 record(s), every notice hash is a pinned one" in clean.output

    with app.app_context():  # a record that names a text nobody published
        db.session.execute(update(ConsentEvent).values(notice_sha256="0" * 64))
        db.session.commit()
    tampered = runner.invoke(args=["compliance", "ledger"])
    assert tampered.exit_code == 1
    assert f"store SHA-256 {'0' * 64}, but the pin is" in tampered.output


def test_the_consent_page_names_the_controller_retention_and_what_the_provider_receives(
    tmp_path: Path,
) -> None:
    app = make_app(
        tmp_path,
        CONTROLLER_NAME="Example Shop Ltd, 1 High Street, Leeds",
        CONTROLLER_CONTACT="privacy@shop.example",
    )
    browser = Browser(app.test_client())
    browser.choose_username("alice")
    text = page(browser, "/signup/how")
    _, facts = facts_shown(text)
    values = dict(facts)
    assert values["Who is responsible for your data"] == "Example Shop Ltd, 1 High Street, Leeds"
    assert values["How to contact them"] == "privacy@shop.example"
    kept = values["How long we keep the record of your choice"]
    assert "If you agree or withdraw: 3 years after you do" in kept
    assert "If you say no: 90 days" in kept
    shown = html.unescape(text)
    assert "receives your username and your display name" in shown


def test_the_ledger_records_the_hash_of_the_facts_the_page_showed(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.choose_username("alice")
    declared, facts = facts_shown(page(browser, "/signup/how"))
    # The hash an auditor computes from the words on the page, as "label: value" lines.
    recomputed = hashlib.sha256(
        "\n".join(f"{label}: {value}" for label, value in facts).encode("utf-8")
    ).hexdigest()
    assert declared == recomputed
    browser.sign_up_with_passkey(authenticator)
    with app.app_context():
        [recorded] = db.session.execute(select(ConsentEvent.facts_sha256)).scalars().all()
    assert recorded == recomputed
    exported = browser.client.get("/api/privacy/export").get_json()
    assert [e["facts_sha256"] for e in exported["consent_events"]] == [recomputed]


def _language_migration() -> tuple[str, str]:
    """(revision, down_revision) of the migration that added consent_events.notice_language."""
    from alembic.script import ScriptDirectory

    from authdemo import database

    script = ScriptDirectory.from_config(database.alembic_config())
    for revision in script.walk_revisions():
        if "the language of the notice text shown" in (revision.doc or ""):
            down = revision.down_revision
            assert isinstance(down, str)
            return revision.revision, down
    raise AssertionError("no migration adds consent_events.notice_language")


def test_decisions_recorded_before_languages_become_english_with_their_hash_kept(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    """Migration: every earlier decision was shown an English text. The hash each row
    recorded stays the evidence; the ledger check compares it with the English pin."""
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    with app.app_context():
        [before] = db.session.execute(select(ConsentEvent.notice_sha256)).scalars().all()
    runner = app.test_cli_runner()
    _, previous = _language_migration()
    down = runner.invoke(args=["db", "downgrade", "--revision", previous, "--yes"])
    assert down.exit_code == 0, down.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        [(language, sha256, version)] = db.session.execute(
            select(
                ConsentEvent.notice_language,
                ConsentEvent.notice_sha256,
                ConsentEvent.notice_version,
            )
        ).all()
    assert (language, sha256) == ("en", before)
    assert pins.load_pins(REPO / "compliance")[(PASSKEY_SIGNIN, version, "en")] == sha256
    audited = runner.invoke(args=["compliance", "ledger"])
    assert audited.exit_code == 0, audited.output


def test_the_ledger_command_fails_on_a_hash_that_is_not_the_pin_of_its_language(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    """A record that says "de" but holds the English text's hash cannot show which words
    the person read."""
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    with app.app_context():
        db.session.execute(update(ConsentEvent).values(notice_language="de"))
        db.session.commit()
    audited = app.test_cli_runner().invoke(args=["compliance", "ledger"])
    assert audited.exit_code == 1
    assert "(de) store SHA-256" in audited.output
    assert "but the pin is" in audited.output
