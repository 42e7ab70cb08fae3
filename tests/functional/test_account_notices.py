"""Security notices in the app: after a passkey is added or removed, a new sign-in, a
possibly cloned passkey, a recovery code used, or the password + code factor changing,
the person's next visit shows a notice once, and the account page lists it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, Passkey, UserSession
from tests.conftest import Browser, totp_code
from tests.functional.account_pages import items_of
from tests.functional.test_account_passkeys import add_passkey
from tests.support.authenticator import SoftwareAuthenticator

_TOTP_KEY = re.compile(r'id="totp-key">([A-Z2-7 ]+)<')


def notices(browser: Browser, page: str = "/account") -> list[str]:
    """The notices shown on this visit (the banner), without their timestamps."""
    return [
        item.split(": ", 1)[1]
        for item in items_of(browser.client.get(page), "security-notices-list")
    ]


def activity(browser: Browser) -> list[str]:
    return [
        item.split(": ", 1)[1]
        for item in items_of(browser.client.get("/account"), "security-activity")
    ]


@pytest.fixture
def alice(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    return browser


@pytest.fixture
def alice_elsewhere(
    new_browser: Any, authenticator: SoftwareAuthenticator, alice: Browser, clock: FrozenClock
) -> Browser:
    clock.advance(seconds=60)
    other: Browser = new_browser()
    assert other.sign_in_with_passkey(authenticator).status_code == 200
    return other


def test_a_new_account_has_no_notices(alice: Browser) -> None:
    assert notices(alice) == []


def test_a_new_sign_in_is_noticed_on_the_other_device_not_on_the_one_that_signed_in(
    alice: Browser, alice_elsewhere: Browser
) -> None:
    assert notices(alice_elsewhere) == []
    assert notices(alice) == ["New sign-in to your account with a passkey."]


def test_a_notice_is_shown_once_and_stays_in_the_recent_activity(
    alice: Browser, alice_elsewhere: Browser
) -> None:
    notices(alice)

    assert notices(alice) == []
    assert activity(alice) == ["New sign-in to your account with a passkey."]


def test_the_account_subpages_show_unseen_notices_too(
    alice: Browser, alice_elsewhere: Browser
) -> None:
    assert notices(alice, "/account/sessions") == ["New sign-in to your account with a passkey."]


def test_a_refused_form_shows_the_notices_without_marking_them_seen(
    alice: Browser, new_browser: Any, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    """A refused request changes nothing (issue 14 item 3), not even "seen". Alice has the
    sessions page open; meanwhile someone signs in elsewhere; her refused form shows the
    new notice, and her next visit shows it again (only a GET marks it seen)."""
    assert alice.csrf  # the form's token, from the page she has open
    assert notices(alice, "/account/sessions") == []
    clock.advance(seconds=60)
    assert new_browser().sign_in_with_passkey(authenticator).status_code == 200
    expected = ["New sign-in to your account with a passkey."]

    refused = alice.post_form("/account/sessions/device-label", {"device_label": "x" * 65})

    assert refused.status_code == 400
    assert [i.split(": ", 1)[1] for i in items_of(refused, "security-notices-list")] == expected
    assert notices(alice, "/account/sessions") == expected
    assert notices(alice, "/account/sessions") == []


def test_a_passkey_added_or_removed_is_noticed(
    app: Flask, alice: Browser, alice_elsewhere: Browser, clock: FrozenClock
) -> None:
    notices(alice)
    clock.advance(seconds=60)
    add_passkey(alice_elsewhere, SoftwareAuthenticator())
    assert notices(alice) == ["A passkey was added to your account."]

    clock.advance(seconds=60)
    with app.app_context():
        newest = max(db.session.scalars(select(Passkey.id)))
    alice_elsewhere.post_form(f"/account/passkeys/{newest}/remove", {})
    assert notices(alice) == ["A passkey was removed from your account."]


def test_a_possibly_cloned_passkey_is_noticed(
    alice: Browser,
    alice_elsewhere: Browser,
    new_browser: Any,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
) -> None:
    notices(alice)
    clock.advance(seconds=60)
    copy: Browser = new_browser()
    # A copy of the key, used elsewhere, sends a counter that does not go up (§6.1.1).
    stale = authenticator.credentials[0].sign_count
    assert copy.sign_in_with_passkey(authenticator, sign_count=stale).status_code == 400

    [notice] = notices(alice)
    assert notice.startswith("One of your passkeys may have been copied")


def test_a_recovery_code_used_is_noticed(
    browser: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock, "bob")
    clock.advance(seconds=60)
    other: Browser = new_browser()
    used = other.post_form(
        "/signin/recovery", {"username": "bob", "recovery_code": account.recovery_codes[0]}
    )
    assert used.status_code == 302

    assert "A recovery code was used to sign in. 9 left." in notices(browser)


def test_setting_up_and_removing_password_and_code_is_noticed(
    alice: Browser, alice_elsewhere: Browser, clock: FrozenClock
) -> None:
    notices(alice)
    clock.advance(seconds=60)
    assert (
        alice_elsewhere.post_form(
            "/account/password-code/setup", {"password": "correct horse battery staple"}
        ).status_code
        == 302
    )
    page = alice_elsewhere.client.get("/account/password-code/confirm").get_data(as_text=True)
    match = _TOTP_KEY.search(page)
    assert match
    key = match.group(1).replace(" ", "")
    confirmed = alice_elsewhere.post_form(
        "/account/password-code/confirm", {"code": totp_code(key, clock)}
    )
    assert confirmed.status_code == 200
    assert notices(alice) == ["Sign-in with a password and one-time code was set up."]

    clock.advance(seconds=60)
    assert alice_elsewhere.post_form("/account/password-code/remove", {}).status_code == 302
    assert notices(alice) == ["Sign-in with a password and one-time code was removed."]


def test_notices_are_only_about_the_persons_own_account(
    alice: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    clock.advance(seconds=60)
    bob: Browser = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    bob.sign_out()

    assert notices(alice) == []


def test_the_activity_list_covers_the_last_30_days(
    alice: Browser,
    alice_elsewhere: Browser,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
) -> None:
    assert notices(alice) == ["New sign-in to your account with a passkey."]
    assert activity(alice) == ["New sign-in to your account with a passkey."]
    clock.advance(seconds=31 * 24 * 3600)
    assert alice.sign_in_with_passkey(authenticator).status_code == 200

    assert activity(alice) == []


# --- what this session did is not news to it (issue 17 item 2) -------------------------


def set_up_password_and_code(browser: Browser, clock: FrozenClock) -> None:
    form = {"password": "correct horse battery staple"}
    assert browser.post_form("/account/password-code/setup", form).status_code == 302
    page = browser.client.get("/account/password-code/confirm").get_data(as_text=True)
    match = _TOTP_KEY.search(page)
    assert match
    code = totp_code(match.group(1).replace(" ", ""), clock)
    assert browser.post_form("/account/password-code/confirm", {"code": code}).status_code == 200


def withdraw(browser: Browser) -> None:
    page = browser.client.get("/account").get_data(as_text=True)
    fields = dict(re.findall(r'name="(notice_version|notice_sha256)" value="([^"]+)"', page))
    done = browser.post_form("/account/passkeys/consent/withdraw", {"source": "account", **fields})
    assert done.status_code == 302, done.get_data(as_text=True)


#: A change a person makes in one session, and the notices their other session then shows.
OWN_CHANGES: dict[str, tuple[Any, list[str]]] = {
    "add a passkey": (
        lambda browser, clock: add_passkey(browser, SoftwareAuthenticator()),
        ["A passkey was added to your account."],
    ),
    "change the username": (
        lambda browser, clock: browser.post_form(
            "/account/profile", {"username": "alicia", "display_name": ""}
        ),
        ["Your username was changed."],
    ),
    "set up a password and code": (
        set_up_password_and_code,
        ["Sign-in with a password and one-time code was set up."],
    ),
    # With a password + code, so a way in remains: a withdrawal that leaves nothing ends
    # the other sessions instead (tests/functional/test_old_session_takeover.py).
    "withdraw consent": (
        lambda browser, clock: (set_up_password_and_code(browser, clock), withdraw(browser)),
        [
            "A passkey was removed from your account.",
            "Sign-in with a password and one-time code was set up.",
        ],
    ),
}


@pytest.mark.parametrize("change", list(OWN_CHANGES))
def test_a_change_made_in_this_session_is_news_only_to_the_persons_other_sessions(
    alice: Browser, alice_elsewhere: Browser, clock: FrozenClock, change: str
) -> None:
    make_change, expected = OWN_CHANGES[change]
    notices(alice)  # the other session's sign-in, read
    clock.advance(seconds=60)

    make_change(alice, clock)

    assert notices(alice) == []
    assert not set(expected) & set(activity(alice))
    assert notices(alice_elsewhere) == expected


def test_an_event_is_shown_once_on_the_account_page(
    alice: Browser, alice_elsewhere: Browser
) -> None:
    """The notices at the top and the recent activity below never list the same event."""
    page = alice.client.get("/account")
    assert [i.split(": ", 1)[1] for i in items_of(page, "security-notices-list")] == [
        "New sign-in to your account with a passkey."
    ]
    assert items_of(page, "security-activity") == []
    assert activity(alice) == ["New sign-in to your account with a passkey."]


def test_an_audit_row_names_its_session_by_a_keyed_hash_not_by_its_token_or_id(
    app: Flask, alice: Browser, alice_elsewhere: Browser
) -> None:
    """What an auditor reading the table sees: a 64-hex-digit value per session that is
    neither the session's row id, nor its token, nor the token's stored SHA-256."""
    add_passkey(alice, SoftwareAuthenticator())
    add_passkey(alice_elsewhere, SoftwareAuthenticator())
    with app.app_context():
        refs = (
            db.session.execute(
                select(AuditEvent.session_ref)
                .where(AuditEvent.event == "passkey.added")
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
        sessions = db.session.execute(
            select(UserSession.id, UserSession.token_hash).order_by(UserSession.id)
        ).all()
    assert len(refs) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", str(ref)) for ref in refs)
    assert refs[0] != refs[1]
    tokens = {session_token(app, alice), session_token(app, alice_elsewhere)}
    known = {str(s.id) for s in sessions} | {s.token_hash.hex() for s in sessions} | tokens
    assert not set(refs) & known


def session_token(app: Flask, browser: Browser) -> str:
    """The session token inside the browser's signed cookie (as the browser holds it)."""
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    token = serializer.loads(cookie.value)["sid"]
    assert isinstance(token, str)
    return token


def test_a_session_that_reads_its_notices_hides_none_of_its_own_changes_from_the_others(
    new_browser: Any,
    authenticator: SoftwareAuthenticator,
    alice: Browser,
    alice_elsewhere: Browser,
    clock: FrozenClock,
) -> None:
    # Someone else holds a session (alice_elsewhere): they add a passkey, then, after a
    # third sign-in, read their notices. Reading them must not mark their own change seen
    # for the owner's session, whatever came after it.
    notices(alice)
    notices(alice_elsewhere)
    clock.advance(seconds=60)
    add_passkey(alice_elsewhere, SoftwareAuthenticator())
    clock.advance(seconds=60)
    third: Browser = new_browser()
    assert third.sign_in_with_passkey(authenticator).status_code == 200

    assert notices(alice_elsewhere) == ["New sign-in to your account with a passkey."]
    assert notices(alice) == [
        "New sign-in to your account with a passkey.",
        "A passkey was added to your account.",
    ]
