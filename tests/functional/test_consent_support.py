"""Helpers shared by the consent tests (this module holds no tests).

They do what the consent pages do: send the version and SHA-256 of the notice the page
showed, and read the ledger straight from the database, as an auditor would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from authdemo.consent import web
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, Notice, NoticeBook
from authdemo.extensions import db
from authdemo.models import AuditEvent, ConsentEvent, Passkey, User
from tests.conftest import Browser
from tests.support.authenticator import SoftwareAuthenticator

#: A later, material version of the passkey notice (tests publish it with ``publish``).
MATERIAL_NEXT = Notice(
    purpose=PASSKEY_SIGNIN,
    version="test-material",
    published=date(2027, 6, 1),
    material=True,
    title="Signing in with a passkey",
    text="We now also keep the passkey's attestation certificate.",
    changes="We now keep one more field: the attestation certificate.",
)
#: A later wording fix that changes nothing people agreed to.
WORDING_NEXT = Notice(
    purpose=PASSKEY_SIGNIN,
    version="test-wording",
    published=date(2027, 3, 1),
    material=False,
    title="Signing in with a passkey",
    text="Same as the current version, in clearer words.",
    changes="Clearer wording; nothing else changed.",
)


@dataclass(frozen=True)
class Row:
    user_ref: str
    purpose: str
    action: str
    notice_version: str
    notice_sha256: str
    method: str


def publish(app: Flask, *notices: Notice) -> None:
    """Deploy new notice versions (the running app reads its book from extensions)."""
    app.extensions[web.NOTICES_EXTENSION] = NoticeBook([*NOTICES.texts(), *notices])


def current_notice(app: Flask) -> Notice:
    with app.app_context():
        return web.current_notice()


def notice_fields(app: Flask, notice: Notice | None = None) -> dict[str, str]:
    """The hidden fields a consent form carries."""
    shown = notice or current_notice(app)
    return {
        "notice_version": shown.version,
        "notice_language": shown.language,
        "notice_sha256": shown.sha256,
    }


def consent_body(app: Flask, notice: Notice | None = None) -> dict[str, Any]:
    """What the opt-in pages send with a passkey options request."""
    return {"consent": True, **notice_fields(app, notice)}


def sign_up_with_passkey(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, username: str = "alice"
) -> TestResponse:
    assert browser.choose_username(username).status_code == 302
    options = browser.post_json("/api/passkeys/sign-up/options", consent_body(app))
    assert options.status_code == 200, options.get_json()
    return browser.post_json(
        "/api/passkeys/sign-up/verify", authenticator.create(options.get_json())
    )


def ledger(app: Flask) -> list[Row]:
    """Every consent event, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(
                ConsentEvent.user_ref,
                ConsentEvent.purpose,
                ConsentEvent.action,
                ConsentEvent.notice_version,
                ConsentEvent.notice_sha256,
                ConsentEvent.method,
            ).order_by(ConsentEvent.id)
        ).all()
    return [Row(*row) for row in rows]


def user_id(app: Flask, username: str) -> str:
    with app.app_context():
        return str(
            db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        )


def passkey_count(app: Flask, username: str | None = None) -> int:
    stmt = select(func.count()).select_from(Passkey)
    if username is not None:
        stmt = stmt.join(User, User.id == Passkey.user_id).where(User.username == username)
    with app.app_context():
        return int(db.session.execute(stmt).scalar_one())


def audit_details(app: Flask, event: str) -> list[dict[str, Any]]:
    with app.app_context():
        return list(
            db.session.execute(
                select(AuditEvent.details).where(AuditEvent.event == event).order_by(AuditEvent.id)
            ).scalars()
        )


def page(browser: Browser, path: str) -> str:
    response = browser.client.get(path)
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)
