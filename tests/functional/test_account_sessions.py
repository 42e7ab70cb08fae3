"""The sessions page: the person's signed-in sessions (created, last seen, a device name
only if they chose one), sign out one, sign out everywhere else."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, User, UserSession
from tests.conftest import Browser
from tests.functional.account_pages import has_id, items_of, text_of
from tests.support.authenticator import SoftwareAuthenticator


def sessions_of(app: Flask, username: str) -> list[UserSession]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(UserSession)
                .join(User, User.id == UserSession.user_id)
                .where(User.username == username)
                .order_by(UserSession.id)
            )
        )


def revocations(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.details).where(AuditEvent.event == "session.revoked")
            )
        )


def signed_in(browser: Browser) -> bool:
    return browser.client.get("/account").status_code == 200


@pytest.fixture
def alice(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    return browser


@pytest.fixture
def alice_elsewhere(
    new_browser: Any, authenticator: SoftwareAuthenticator, alice: Browser
) -> Browser:
    """Alice signed in on a second device, with the same passkey (synced)."""
    other: Browser = new_browser()
    assert other.sign_in_with_passkey(authenticator).status_code == 200
    return other


def test_the_page_lists_the_persons_sessions_with_created_and_last_seen(
    app: Flask, alice: Browser, alice_elsewhere: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    new_browser().sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    mine, bobs = sessions_of(app, "alice"), sessions_of(app, "bob")

    page = alice.client.get("/account/sessions")

    cards = items_of(page, "session-list")
    assert len(cards) == 2
    assert cards[0].startswith("This device")  # the current session comes first
    assert cards[1].startswith("Another session")
    when = f"{clock.now().day} {clock.now():%B %Y, %H:%M} UTC"
    assert f"Signed in {when} with a passkey" in cards[1]
    assert f"Last seen {when}" in cards[1]
    assert all(has_id(page, f"session-{s.id}") for s in mine)
    assert not any(has_id(page, f"session-{s.id}") for s in bobs)


def test_last_seen_follows_the_sessions_use(
    app: Flask, alice: Browser, alice_elsewhere: Browser, clock: FrozenClock
) -> None:
    clock.advance(seconds=600)
    alice_elsewhere.client.get("/account")
    _, other = sessions_of(app, "alice")

    card = text_of(alice.client.get("/account/sessions"), f"session-{other.id}")

    assert card is not None
    assert f"Last seen {clock.now().day} {clock.now():%B %Y, %H:%M} UTC" in card


def test_no_device_description_is_kept_unless_the_person_names_the_device(
    app: Flask, alice: Browser
) -> None:
    assert [s.device_label for s in sessions_of(app, "alice")] == [None]

    response = alice.post_form("/account/sessions/device-label", {"device_label": " Work  laptop"})

    assert response.status_code == 302
    assert [s.device_label for s in sessions_of(app, "alice")] == ["Work laptop"]
    [card] = items_of(alice.client.get("/account/sessions"), "session-list")
    assert card.startswith("Work laptop (this device)")


def test_an_empty_device_name_forgets_it(app: Flask, alice: Browser) -> None:
    alice.post_form("/account/sessions/device-label", {"device_label": "Work laptop"})

    alice.post_form("/account/sessions/device-label", {"device_label": "  "})

    assert [s.device_label for s in sessions_of(app, "alice")] == [None]


@pytest.mark.parametrize("label", ["x" * 65, "bell\x07", "rtl\u202eoverride"], ids=repr)
def test_an_unprintable_or_long_device_name_is_refused_at_the_field(
    app: Flask, alice: Browser, label: str
) -> None:
    response = alice.post_form("/account/sessions/device-label", {"device_label": label})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert text_of(html, "device-label-error")
    assert 'aria-describedby="device-label-hint device-label-error"' in html
    assert [s.device_label for s in sessions_of(app, "alice")] == [None]


def test_signing_out_one_session_ends_it_at_once_and_is_audited(
    app: Flask, alice: Browser, alice_elsewhere: Browser
) -> None:
    _, other = sessions_of(app, "alice")

    response = alice.post_form(f"/account/sessions/{other.id}/sign-out", {})

    assert response.status_code == 302
    assert not signed_in(alice_elsewhere)
    assert signed_in(alice)
    assert revocations(app) == [{"session_id": other.id}]


def test_someone_elses_session_cannot_be_signed_out(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    [bobs] = sessions_of(app, "bob")

    response = alice.post_form(f"/account/sessions/{bobs.id}/sign-out", {})

    assert response.status_code == 404
    assert signed_in(bob)
    assert revocations(app) == []


def test_signing_out_the_current_session_from_the_list_signs_this_browser_out(
    app: Flask, alice: Browser
) -> None:
    [mine] = sessions_of(app, "alice")

    response = alice.post_form(f"/account/sessions/{mine.id}/sign-out", {})

    assert response.headers["Location"] == "/signin?signed_out=1"
    assert not signed_in(alice)


def test_sign_out_everywhere_else_keeps_only_this_session(
    app: Flask,
    alice: Browser,
    alice_elsewhere: Browser,
    new_browser: Any,
    authenticator: SoftwareAuthenticator,
) -> None:
    third: Browser = new_browser()
    third.sign_in_with_passkey(authenticator)
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")

    response = alice.post_form("/account/sessions/sign-out-others", {})

    assert response.status_code == 302
    assert [signed_in(b) for b in (alice, alice_elsewhere, third, bob)] == [
        True,
        False,
        False,
        True,
    ]
    assert len(sessions_of(app, "alice")) == 1
    assert revocations(app) == [{"count": 2}]
    assert has_id(alice.client.get("/account/sessions"), "only-session")


def test_expired_sessions_are_not_listed(
    app: Flask, alice: Browser, alice_elsewhere: Browser, clock: FrozenClock
) -> None:
    for _ in range(2):  # 40 minutes; only Alice's first browser is used meanwhile
        clock.advance(seconds=20 * 60)
        alice.client.get("/account")

    assert len(items_of(alice.client.get("/account/sessions"), "session-list")) == 1


def test_the_sessions_page_needs_a_sign_in(browser: Browser) -> None:
    response = browser.client.get("/account/sessions")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=")
