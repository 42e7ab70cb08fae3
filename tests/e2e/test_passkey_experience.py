"""Living with passkeys, in Chromium with the virtual authenticator: passkey autofill,
the WebAuthn Signal API keeping the device's passkey list in step with the server,
passkey management, sessions and security notices, and sign-up and sign-in with the
keyboard alone.

A spy installed before any page script (``add_init_script``) records the page's WebAuthn
calls in ``sessionStorage``, which survives the navigation that follows a sign-in. Where
the virtual authenticator can show the effect of a signal (a passkey it no longer
offers, a new name), the tests check that too.

Two facts about the virtual authenticator shape these tests: with automatic presence on,
an autofill (conditional) request completes at once, as if the person picked the passkey
from the list; with presence off it stays pending, as in a real browser while the list
is open. And it holds one "internal" authenticator per page; a second one is a "usb" key.
"""

from __future__ import annotations

import base64
import re
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_fallback_flows import PASSWORD, sign_up_with_password
from tests.e2e.test_passkey_flows import expect_account_of, sign_out, sign_up

#: Records navigator.credentials.get (its mediation, abort and outcome) and the three
#: PublicKeyCredential.signal* methods, then calls the browser's own.
SPY = """
(() => {
  const KEY = "webauthn-spy";
  const record = (entry) => {
    try {
      const calls = JSON.parse(sessionStorage.getItem(KEY) || "[]");
      calls.push(entry);
      sessionStorage.setItem(KEY, JSON.stringify(calls));
    } catch (e) { /* about:blank has no storage */ }
  };
  if (typeof window.PublicKeyCredential !== "function") return;
  for (const method of [
    "signalUnknownCredential", "signalAllAcceptedCredentials", "signalCurrentUserDetails",
  ]) {
    const original = PublicKeyCredential[method];
    if (typeof original !== "function") continue;
    PublicKeyCredential[method] = function (options) {
      record({ call: method, options });
      return original.call(PublicKeyCredential, options);
    };
  }
  const get = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = function (options) {
    const mediation = (options && options.mediation) || "optional";
    record({ call: "get", mediation });
    options?.signal?.addEventListener("abort", () => record({ call: "abort", mediation }));
    return get(options).then(
      (credential) => { record({ call: "resolved", mediation }); return credential; },
      (error) => { record({ call: "rejected", mediation, name: error.name }); throw error; },
    );
  };
  // Everything the status line ever says, to prove an error was never shown.
  document.addEventListener("DOMContentLoaded", () => {
    const status = document.getElementById("status");
    if (!status) return;
    new MutationObserver(() => record({ call: "status", kind: status.dataset.kind || "",
      text: status.textContent })).observe(status, { childList: true, attributes: true,
      characterData: true, subtree: true });
  });
})();
"""

SIGNAL_METHODS = {
    "signalUnknownCredential",
    "signalAllAcceptedCredentials",
    "signalCurrentUserDetails",
}


# --- the spy and the device -----------------------------------------------------------


def spy_on(page: Page) -> None:
    page.add_init_script(SPY)


def calls(page: Page, kind: str | None = None) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = page.evaluate(
        "JSON.parse(sessionStorage.getItem('webauthn-spy') || '[]')"
    )
    return [c for c in recorded if kind is None or c["call"] == kind]


def signals(page: Page) -> list[dict[str, Any]]:
    return [c for c in calls(page) if c["call"] in SIGNAL_METHODS]


def wait_for_call(page: Page, **fields: str) -> None:
    """Wait until the spy has recorded a call with these fields. (Polled from here:
    ``wait_for_function`` would evaluate a string in the page, which the strict
    Content-Security-Policy rightly refuses.)"""

    def seen() -> bool:
        return any(all(c.get(k) == v for k, v in fields.items()) for c in calls(page))

    assert eventually(seen), f"no call with {fields}: {calls(page)}"


def b64url(standard_base64: str) -> str:
    """CDP reports ids in standard base64; WebAuthn's JSON uses base64url."""
    return standard_base64.replace("+", "-").replace("/", "_").rstrip("=")


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """The device applies a signal in the background: poll briefly for the effect."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class Device:
    """Controls of the virtual authenticators that the shared fixture does not offer."""

    def __init__(self, page: Page) -> None:
        self._cdp: CDPSession = page.context.new_cdp_session(page)

    def presence(self, authenticator_id: str, *, automatic: bool) -> None:
        """With presence off, a request waits, as it does while a person decides."""
        self._cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": authenticator_id, "enabled": automatic},
        )

    def add_credential(self, authenticator_id: str, credential: dict[str, Any]) -> None:
        self._cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": authenticator_id, "credential": credential},
        )


def stale_passkey_for(user_handle: str) -> dict[str, Any]:
    """A passkey of the same account that the server no longer has (removed elsewhere)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "credentialId": base64.b64encode(b"stale-passkey-0123456789").decode(),
        "isResidentCredential": True,
        "rpId": "localhost",
        "privateKey": base64.b64encode(pkcs8).decode(),
        "userHandle": user_handle,
        "signCount": 0,
    }


# --- what a person does ---------------------------------------------------------------


def open_passkeys(page: Page) -> None:
    page.goto("/account/passkeys")
    page.wait_for_load_state()


def add_passkey_on_page(page: Page) -> None:
    """Add a passkey, and wait for the page to list it. Someone who agreed to the current
    notice sees a one-line reminder; anyone else ticks the opt-in box."""
    cards = page.locator("#passkey-list > li")
    before = cards.count()
    if page.locator("#passkey-consent").count():
        page.check("#passkey-consent")
    else:
        expect(page.locator("#consent-reminder")).to_be_visible()
    page.click("#add-passkey")
    expect(cards).to_have_count(before + 1)
    page.wait_for_load_state()


def passkey_cards(page: Page) -> list[str]:
    return page.locator("#passkey-list > li").all_inner_texts()


# --- passkey autofill -----------------------------------------------------------------


def test_autofill_starts_at_the_username_field_and_the_button_stops_it_without_an_error(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    spy_on(page)
    authenticator = virtual_authenticator.add()
    sign_up(page, "alice")
    sign_out(page)
    # Presence off: requests wait, as they do while a person looks at the autofill list
    # or at the passkey prompt. (Once a request waits, turning presence on does not
    # answer it, so this test stops at the prompt; the others complete a sign-in.)
    Device(page).presence(authenticator, automatic=False)

    page.focus("#username")
    wait_for_call(page, call="get", mediation="conditional")
    page.click("#signin-passkey")
    wait_for_call(page, call="get", mediation="optional")

    webauthn = [c for c in calls(page) if c["call"] in {"get", "abort", "rejected", "resolved"}]
    assert webauthn == [
        {"call": "get", "mediation": "conditional"},
        {"call": "abort", "mediation": "conditional"},
        {"call": "rejected", "mediation": "conditional", "name": "AbortError"},
        {"call": "get", "mediation": "optional"},
    ]
    expect(page.locator("#status")).to_have_text("Follow the prompt on your device…")
    assert [c for c in calls(page, "status") if c["kind"] == "error"] == []


def test_choosing_the_passkey_from_autofill_signs_in(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    spy_on(page)
    virtual_authenticator.add()
    sign_up(page, "alice")
    sign_out(page)

    page.focus("#username")  # presence is automatic: the passkey is picked at once

    expect_account_of(page, "alice")
    assert {"call": "resolved", "mediation": "conditional"} in calls(page)
    assert calls(page, "get") == [{"call": "get", "mediation": "conditional"}]


def test_submitting_the_password_form_stops_the_autofill_request(
    context: BrowserContext, live_server: LiveServer
) -> None:
    # No virtual authenticator here: a real browser with no passkey for the site keeps
    # the autofill request pending. A page of our own, because the wrong password's 401
    # is logged by Chromium as a console error, which the shared `page` fixture refuses.
    page = context.new_page()
    spy_on(page)
    page.goto("/signin")
    page.wait_for_load_state()

    page.focus("#username")
    wait_for_call(page, call="get", mediation="conditional")
    page.keyboard.type("nobody")
    page.fill("#password", PASSWORD)
    page.fill("#code", "123456")
    page.click("#signin-password")

    expect(page.locator("#password-error")).to_be_visible()
    assert calls(page, "abort") == [{"call": "abort", "mediation": "conditional"}]
    assert [c for c in calls(page, "status") if c["kind"] == "error"] == []


# --- the Signal API -------------------------------------------------------------------


def test_after_sign_in_the_device_is_told_all_accepted_passkeys_and_drops_stale_ones(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    spy_on(page)
    platform = virtual_authenticator.add()
    sign_up(page, "alice")
    [current] = virtual_authenticator.credentials(platform)
    # A passkey of Alice's that the server no longer has, on a security key that waits
    # to be touched (so the sign-in below uses the platform passkey).
    security_key = virtual_authenticator.add(transport="usb")
    device = Device(page)
    device.add_credential(security_key, stale_passkey_for(current["userHandle"]))
    device.presence(security_key, automatic=False)
    sign_out(page)

    page.click("#signin-passkey")
    expect_account_of(page, "alice")

    [(credential_id, user_handle)] = live_server.query(
        "SELECT credential_id, user_handle FROM passkeys JOIN users ON users.id = user_id"
    )
    assert signals(page) == [
        {
            "call": "signalAllAcceptedCredentials",
            "options": {
                "rpId": "localhost",
                "userId": base64.urlsafe_b64encode(user_handle).decode().rstrip("="),
                "allAcceptedCredentialIds": [
                    base64.urlsafe_b64encode(credential_id).decode().rstrip("=")
                ],
            },
        }
    ]
    assert eventually(lambda: virtual_authenticator.credentials(security_key) == [])
    assert [c["credentialId"] for c in virtual_authenticator.credentials(platform)] == [
        current["credentialId"]
    ]


def test_a_passkey_the_server_does_not_know_is_signalled_and_the_device_forgets_it(
    context: BrowserContext, live_server: LiveServer
) -> None:
    # Our own page: the refused sign-in's 400 is logged as a console error.
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    spy_on(page)
    authenticators = VirtualAuthenticators(context.new_cdp_session(page))
    authenticator = authenticators.add()
    sign_up(page, "alice")
    sign_out(page)
    [credential] = authenticators.credentials(authenticator)
    # The passkey is removed on the server meanwhile (from another device, say).
    connection = sqlite3.connect(live_server.database)
    with connection:  # commits
        connection.execute("DELETE FROM passkeys")
    connection.close()

    page.click("#signin-passkey")

    expect(page.locator("#status")).to_have_attribute("data-kind", "error")
    # Retrying cannot work: the page says so and points to the other ways in (issue 17
    # item 3), which the sign-in page offers right below.
    expect(page.locator("#status")).to_have_text(
        "This passkey is no longer linked to an account here: it may have been removed, "
        "or the account deleted. Please sign in another way: with your password and "
        "one-time code, a recovery code, or another passkey."
    )
    expect(page.locator("#password-form")).to_be_visible()
    expect(page.locator("#use-recovery-code")).to_be_visible()
    assert signals(page) == [
        {
            "call": "signalUnknownCredential",
            "options": {"rpId": "localhost", "credentialId": b64url(credential["credentialId"])},
        }
    ]
    assert eventually(lambda: authenticators.credentials(authenticator) == [])
    assert all("status of 400" in error for error in errors), errors


def test_removing_a_passkey_tells_the_device_to_stop_offering_it(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    spy_on(page)
    authenticator = virtual_authenticator.add()
    sign_up_with_password(page, "pat")
    open_passkeys(page)
    add_passkey_on_page(page)
    assert len(virtual_authenticator.credentials(authenticator)) == 1

    page.click("#passkey-list a.button.danger")
    expect(page.locator("h1")).to_have_text(re.compile(r"^Remove “.+”\?$"))
    page.click("#confirm-remove")

    expect(page).to_have_url(re.compile(r"/account/passkeys$"))
    expect(page.locator("#no-passkeys")).to_be_visible()
    wait_for_call(page, call="signalAllAcceptedCredentials")
    [signal] = signals(page)
    assert signal["options"]["allAcceptedCredentialIds"] == []
    assert eventually(lambda: virtual_authenticator.credentials(authenticator) == [])


def test_a_profile_change_renames_the_passkey_on_the_device(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    spy_on(page)
    authenticator = virtual_authenticator.add()
    sign_up(page, "alice")

    page.click("#edit-profile")
    page.fill("#username", "alice.smith")
    page.fill("#display_name", "Alice Smith")
    page.click("#save-profile")

    expect(page.locator("#username")).to_have_value("alice.smith")
    wait_for_call(page, call="signalCurrentUserDetails")
    [signal] = signals(page)
    assert signal["options"]["name"] == "alice.smith"
    assert signal["options"]["displayName"] == "Alice Smith"

    def renamed() -> bool:
        [credential] = virtual_authenticator.credentials(authenticator)
        return (credential.get("userName"), credential.get("userDisplayName")) == (
            "alice.smith",
            "Alice Smith",
        )

    assert eventually(renamed)


# --- managing passkeys ----------------------------------------------------------------


def test_the_passkey_page_shows_sync_state_and_renames_a_passkey(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add(defaultBackupEligibility=True, defaultBackupState=True)
    sign_up(page, "alice")
    page.click("#manage-passkeys")
    page.wait_for_load_state()

    [card] = passkey_cards(page)
    assert "Synced across your devices" in card
    assert "Not yet" in card  # never used to sign in

    page.fill("#passkey-list input[name=name]", "My laptop")
    page.click("#passkey-list .rename-form button")

    expect(page.locator("#passkey-list .passkey-name")).to_have_text("My laptop")
    expect(page.locator("main p.notice")).to_contain_text("now called “My laptop”")


def test_the_same_device_cannot_add_a_second_passkey_for_the_account(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add()
    sign_up(page, "alice")
    open_passkeys(page)

    page.click("#add-passkey")

    expect(page.locator("#status")).to_have_attribute("data-kind", "error")
    expect(page.locator("#status")).to_have_text(
        "This device already has a passkey for your account. You can use that one."
    )
    assert live_server.query("SELECT count(*) FROM passkeys") == [(1,)]


def test_a_second_device_adds_a_passkey_and_the_last_one_cannot_be_removed(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    platform = virtual_authenticator.add()
    sign_up(page, "alice")
    open_passkeys(page)
    expect(page.locator("#last-way-in")).to_be_visible()  # one passkey, no password
    security_key = virtual_authenticator.add(transport="usb")
    Device(page).presence(platform, automatic=False)  # this one answers: the new key

    add_passkey_on_page(page)

    assert len(passkey_cards(page)) == 2
    assert len(virtual_authenticator.credentials(security_key)) == 1
    expect(page.locator("#last-way-in")).to_have_count(0)
    expect(page.locator("#passkey-list a.button.danger")).to_have_count(2)


# --- sessions and security notices ------------------------------------------------------


def test_a_sign_in_elsewhere_is_noticed_and_signed_out_from_the_sessions_page(
    page: Page,
    virtual_authenticator: VirtualAuthenticators,
    context: BrowserContext,
    live_server: LiveServer,
) -> None:
    laptop = virtual_authenticator.add()
    sign_up(page, "alice")
    [passkey] = virtual_authenticator.credentials(laptop)
    # A second device with the same (synced) passkey, in its own browser profile.
    assert context.browser is not None
    phone_context = context.browser.new_context(base_url=live_server.url)
    phone_context.set_default_timeout(10_000)
    try:
        phone = phone_context.new_page()
        phone_device = VirtualAuthenticators(phone_context.new_cdp_session(phone))
        Device(phone).add_credential(phone_device.add(), passkey)
        phone.goto("/signin")
        phone.wait_for_load_state()
        phone.click("#signin-passkey")
        expect_account_of(phone, "alice")

        page.goto("/account")
        expect(page.locator("#security-notices")).to_contain_text(
            "New sign-in to your account with a passkey."
        )
        page.click("#manage-sessions")
        expect(page.locator("#session-list > li")).to_have_count(2)
        page.click("#sign-out-others")
        expect(page.locator("#only-session")).to_be_visible()

        phone.goto("/account")
        expect(phone).to_have_url(re.compile(r"/signin\?next="))
    finally:
        phone_context.close()


# --- the keyboard alone ---------------------------------------------------------------


def tab_to(page: Page, selector: str, *, presses: int = 30) -> None:
    """Press Tab until ``selector`` has focus; every stop must show a visible focus ring."""
    target = page.locator(selector)
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const el = document.activeElement;
              const style = getComputedStyle(el);
              return {
                tag: el.tagName, id: el.id,
                visible: el.matches(':focus-visible') && style.outlineStyle !== 'none'
                  && parseFloat(style.outlineWidth) >= 2,
              };
            }"""
        )
        assert focused["visible"], f"no visible focus on {focused}"
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} never got focus with Tab")


def test_sign_up_and_sign_in_with_the_keyboard_alone(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    page.goto("/signup")
    page.wait_for_load_state()

    tab_to(page, "#username")
    page.keyboard.type("alice")
    tab_to(page, "#continue")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/signup/how$"))
    page.wait_for_load_state()

    tab_to(page, "#passkey-consent")
    page.keyboard.press("Space")
    expect(page.locator("#passkey-consent")).to_be_checked()
    tab_to(page, "#create-passkey")
    page.keyboard.press("Enter")
    expect_account_of(page, "alice")

    tab_to(page, "#signout")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/signin\?signed_out=1$"))
    page.wait_for_load_state()

    tab_to(page, ".skip-link")
    page.keyboard.press("Enter")  # straight to the page's content
    tab_to(page, "#signin-passkey", presses=3)
    page.keyboard.press("Space")
    expect_account_of(page, "alice")
