"""The privacy manifest is built from the running configuration and the data inventory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from authdemo.compliance import inventory, manifest
from authdemo.compliance.notices import NoticeView
from authdemo.config import Settings

PACK = Path(__file__).resolve().parents[2] / "compliance"


@pytest.fixture(scope="module")
def documented() -> inventory.Inventory:
    return inventory.load(PACK)


def build(documented: inventory.Inventory, **settings: object) -> manifest.Manifest:
    return manifest.build(dataclasses.replace(Settings(), **settings), documented, None)


def test_retention_periods_are_the_running_ones(documented: inventory.Inventory) -> None:
    text = manifest.render_markdown(build(documented, AUDIT_RETENTION_DAYS=30))
    assert "| Security events about your account are kept for | 30 days |" in text
    assert "Here: 30 days (setting AUDIT_RETENTION_DAYS)." in text


def test_kill_switches_show_where_they_stand(documented: inventory.Inventory) -> None:
    text = manifest.render_markdown(
        build(documented, PASSKEY_SIGNIN_ENABLED=False, PASSKEY_JURISDICTIONS="EU,US-CA")
    )
    assert "| Signing in with a passkey | off | `PASSKEY_SIGNIN_ENABLED` |" in text
    assert "| Creating new passkeys | on | `PASSKEY_ENROLMENT_ENABLED` |" in text
    assert "| Where passkeys are offered | EU,US-CA |" in text


def test_every_personal_column_of_the_inventory_is_listed(
    documented: inventory.Inventory,
) -> None:
    built = build(documented)
    listed = {(d.table, i.name) for d in built.datasets for i in d.items}
    personal = {(t.name, c.name) for t in documented.tables for c in t.columns if c.personal}
    assert listed == personal


def test_withheld_fields_say_why(documented: inventory.Inventory) -> None:
    text = manifest.render_markdown(build(documented))
    assert "| `hash` | The argon2id hash" in text
    assert "| no: The argon2id hash of your password." in text


def test_secrets_never_appear(documented: inventory.Inventory) -> None:
    secret = "s3cr3t-value-that-must-not-leak-0123456789"
    built = build(
        documented,
        SECRET_KEY=secret,
        DATA_KEY=secret,
        DATABASE_URL=f"postgresql://u:{secret}@db/x",
        REDIS_URL=f"redis://:{secret}@r",
    )
    assert secret not in manifest.render_markdown(built)
    assert secret not in manifest.render_html(built)


def test_every_public_setting_is_shown_and_no_secret_one(
    documented: inventory.Inventory,
) -> None:
    settings = Settings()
    shown = dict(manifest.build(settings, documented, None).everything)
    assert set(shown) == set(settings.public_view())
    assert {"SECRET_KEY", "DATA_KEY", "DATABASE_URL"}.isdisjoint(shown)


def test_html_escapes_configured_text(documented: inventory.Inventory) -> None:
    html = manifest.render_html(build(documented, RP_NAME="<script>alert(1)</script>"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_notices_are_listed_with_their_language_and_hash(documented: inventory.Inventory) -> None:
    notice = NoticeView("passkey_signin", "2", "2026-06-01", False, "T", "T\n\nB", "", "", True)
    german = NoticeView(
        "passkey_signin", "2", "2026-06-01", False, "T", "T\n\nD", "", "", True, language="de"
    )
    built = manifest.build(Settings(), documented, [notice, german])
    rendered = manifest.render_markdown(built)
    assert f"| `passkey_signin` | 2 | en | 2026-06-01 | yes | `{notice.sha256}` |" in rendered
    assert f"| `passkey_signin` | 2 | de | 2026-06-01 | yes | `{german.sha256}` |" in rendered


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("SESSION_IDLE_SECONDS", 1800, "30 minutes"),
        ("SESSION_ABSOLUTE_SECONDS", 43200, "12 hours"),
        ("CEREMONY_TIMEOUT_SECONDS", 90, "90 seconds"),
        ("AUDIT_RETENTION_DAYS", 1, "1 day"),
        ("RATELIMIT_ENABLED", False, "off"),
    ],
)
def test_values_are_shown_as_people_read_them(name: str, value: object, shown: str) -> None:
    assert manifest.humanise(name, value) == shown
