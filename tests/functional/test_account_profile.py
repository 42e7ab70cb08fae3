"""Rectification (GDPR Art 16): the person changes their username and display name, with
the sign-up rules (normalised, unique), a rate limit, an audit event naming only the
field, and a Signal API call so the device's passkey list shows the new names."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, User
from tests.conftest import Browser
from tests.functional.account_pages import page_data, text_of
from tests.support.authenticator import SoftwareAuthenticator, b64url

ATTEMPTS_PER_MINUTE = 5


def user(app: Flask, username: str) -> User | None:
    with app.app_context():
        return db.session.scalars(select(User).where(User.username == username)).one_or_none()


def profile_events(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.event == "account.profile_changed")
                .order_by(AuditEvent.id)
            )
        )


def change(browser: Browser, username: str, display_name: str = "") -> Any:
    return browser.post_form(
        "/account/profile", {"username": username, "display_name": display_name}
    )


@pytest.fixture
def alice(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    return browser


def test_the_display_name_can_be_changed_in_any_script(app: Flask, alice: Browser) -> None:
    response = change(alice, "alice", "  Алиса   Ng ")

    assert response.status_code == 302
    changed = user(app, "alice")
    assert changed is not None
    assert changed.display_name == "Алиса Ng"
    assert "Hello, Алиса Ng" in alice.client.get("/account").get_data(as_text=True)
    assert profile_events(app) == [{"field": "display_name"}]


def test_a_new_username_is_normalised_and_the_passkey_still_signs_in(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    full_width_alice = "\uff21\uff2c\uff29\uff23\uff25"  # NFKC folds these to "ALICE"
    response = change(alice, f"  {full_width_alice}.Smith ")

    assert response.status_code == 302
    assert user(app, "alice") is None
    assert user(app, "alice.smith") is not None
    alice.sign_out()
    assert alice.sign_in_with_passkey(authenticator).status_code == 200
    assert text_of(alice.client.get("/account"), "signed-in-as") == "alice.smith"


def test_the_audit_event_names_the_field_never_the_old_or_new_value(
    app: Flask, alice: Browser
) -> None:
    change(alice, "alice.smith", "Alice Smith")

    assert profile_events(app) == [{"field": "username"}, {"field": "display_name"}]
    with app.app_context():
        everything = str(db.session.execute(select(AuditEvent.details)).all())
    assert "alice.smith" not in everything
    assert "Alice Smith" not in everything


def test_a_username_someone_has_is_refused_at_the_field(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    new_browser().sign_up_with_passkey(SoftwareAuthenticator(), "bob")

    response = change(alice, "BOB")

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert text_of(html, "username-error") == "That username is taken. Please choose another."
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="username-hint username-error"' in html
    assert user(app, "alice") is not None
    assert profile_events(app) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"username": "a"}, "username"),
        ({"username": "\u0430lice"}, "username"),  # Cyrillic a: a look-alike, refused
        ({"username": "alice", "display_name": "x" * 65}, "display-name"),
        ({"username": "alice", "display_name": "bidi\u202eoverride"}, "display-name"),
    ],
    ids=["too-short", "confusable", "long-display-name", "unprintable-display-name"],
)
def test_an_invalid_name_is_refused_with_the_error_on_its_field(
    app: Flask, alice: Browser, form: dict[str, str], field: str
) -> None:
    response = alice.post_form("/account/profile", {"display_name": "", **form})

    assert response.status_code == 400
    assert text_of(response, f"{field}-error")
    changed = user(app, "alice")
    assert changed is not None
    assert changed.display_name is None
    assert profile_events(app) == []


def test_nothing_changed_records_and_signals_nothing(app: Flask, alice: Browser) -> None:
    response = change(alice, "Alice")  # the same username, once normalised

    assert response.status_code == 302
    assert profile_events(app) == []
    assert page_data(alice.client.get("/account/profile"))["signals"] == []


def test_after_a_change_the_next_page_signals_the_new_names_to_the_device_once(
    app: Flask, alice: Browser
) -> None:
    change(alice, "alice.smith", "Alice Smith")
    changed = user(app, "alice.smith")
    assert changed is not None

    first = page_data(alice.client.get("/account/profile"))["signals"]
    again = page_data(alice.client.get("/account/profile"))["signals"]

    assert first == [
        {
            "method": "signalCurrentUserDetails",
            "options": {
                "rpId": "localhost",
                "userId": b64url(changed.user_handle),
                "name": "alice.smith",
                "displayName": "Alice Smith",
            },
        }
    ]
    assert again == []


def test_without_a_display_name_the_device_shows_the_username(app: Flask, alice: Browser) -> None:
    change(alice, "alice.smith", "")

    [signal] = page_data(alice.client.get("/account/profile"))["signals"]

    assert signal["options"]["displayName"] == "alice.smith"


def test_trying_names_is_rate_limited_per_account(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    for attempt in range(ATTEMPTS_PER_MINUTE):
        assert change(alice, f"taken-or-not-{attempt}").status_code == 302

    limited = change(alice, "one-more")

    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    assert change(bob, "bobby").status_code == 302  # another account is not slowed down


def test_the_profile_page_needs_a_sign_in(browser: Browser) -> None:
    response = browser.client.get("/account/profile")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=")


# --- a new username needs step-up (issue 15 item 5) -------------------------------------


def step_up_with_passkey(browser: Browser, authenticator: SoftwareAuthenticator) -> None:
    options = browser.post_json("/api/reauth/options").get_json()
    verified = browser.post_json("/api/reauth/verify", authenticator.get(options))
    assert verified.status_code == 200, verified.get_json()


def test_a_session_left_open_cannot_change_the_username(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    clock.advance(seconds=app.extensions["authdemo.settings"].STEP_UP_SECONDS + 1)
    response = change(alice, "mallory", "Mallory")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reauth?next=/account/profile")
    assert user(app, "alice") is not None
    assert user(app, "mallory") is None
    assert profile_events(app) == []


def test_after_step_up_the_typed_username_is_shown_again_and_saved(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    clock.advance(seconds=app.extensions["authdemo.settings"].STEP_UP_SECONDS + 1)
    assert change(alice, "alice-two", "Alice Two").status_code == 302
    step_up_with_passkey(alice, authenticator)

    page = alice.client.get("/account/profile").get_data(as_text=True)
    assert 'value="alice-two"' in page
    assert 'value="Alice Two"' in page
    assert change(alice, "alice-two", "Alice Two").status_code == 302
    assert user(app, "alice-two") is not None


def test_without_step_up_a_session_cannot_learn_whether_a_username_is_taken(
    app: Flask, alice: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    new_browser().sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    clock.advance(seconds=app.extensions["authdemo.settings"].STEP_UP_SECONDS + 1)
    taken, free = change(alice, "bob"), change(alice, "nobody-has-this")
    assert (taken.status_code, taken.headers["Location"]) == (
        free.status_code,
        free.headers["Location"],
    )


def test_the_display_name_alone_needs_no_step_up(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    clock.advance(seconds=app.extensions["authdemo.settings"].STEP_UP_SECONDS + 1)
    assert change(alice, "alice", "Alice A.").status_code == 302
    assert profile_events(app) == [{"field": "display_name"}]
