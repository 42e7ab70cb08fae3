"""Requests that must be refused, sent by someone not signed in: choosing a username,
signing up with a passkey or with password + code, signing in."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import STRONG_PASSWORD, Browser, totp_code
from tests.functional.passkey_support import (
    SIGN_IN_OPTIONS,
    SIGN_IN_VERIFY,
    SIGN_UP_OPTIONS,
    SIGN_UP_VERIFY,
)
from tests.functional.refusals_world import (
    NEXT_CODE,
    PAST_A_CEREMONY,
    PAST_AN_ENROLMENT,
    Send,
    World,
    chose_username,
    notice_form,
    notice_of,
    refusal,
    sign_up_options,
    signed_out,
    stranger,
)
from tests.support.accounts import SWITCHED_OFF, State, expect

# sign-up: choosing a username ------------------------------------------------------------


@refusal("signup.signup", "malformed-username")
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.choose_username("not a username!")


@refusal("signup.signup", "another-persons-username", status=409)
def _(world: World) -> Send:
    other, browser = world.person(State.PASSKEY_ONLY), world.browser()
    return lambda: browser.choose_username(other.username)


# sign-up with a passkey ----------------------------------------------------------------------


@refusal("passkeys.sign_up_options", "no-username-chosen")
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_json(SIGN_UP_OPTIONS, notice_of(browser))


@refusal("passkeys.sign_up_options", "box-not-ticked")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    return lambda: browser.post_json(SIGN_UP_OPTIONS, {**notice_of(browser), "consent": False})


@refusal("passkeys.sign_up_options", "notice-version-not-shown")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    body = {**notice_of(browser), "notice_version": "0.0"}
    return lambda: browser.post_json(SIGN_UP_OPTIONS, body)


@refusal("passkeys.sign_up_options", "notice-hash-not-shown")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    body = {**notice_of(browser), "notice_sha256": "0" * 64}
    return lambda: browser.post_json(SIGN_UP_OPTIONS, body)


@refusal("passkeys.sign_up_options", "not-a-json-object")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    return lambda: browser.post_json(SIGN_UP_OPTIONS, [notice_of(browser)])


@refusal("passkeys.sign_up_options", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    browser = world.people.browser(world.people.app(**SWITCHED_OFF))
    expect(browser.choose_username("offsignup"), 302)
    return lambda: browser.post_json(SIGN_UP_OPTIONS, notice_of(browser))


@refusal("passkeys.sign_up_verify", "not-a-credential")
def _(world: World) -> Send:
    browser, _name, _options = sign_up_options(world)
    return lambda: browser.post_json(SIGN_UP_VERIFY, {"id": "x", "type": "public-key"})


@refusal("passkeys.sign_up_verify", "no-ceremony")
def _(world: World) -> Send:
    _browser, _name, options = sign_up_options(world)
    credential = stranger(world).create(options)
    other, _other_name = chose_username(world)
    return lambda: other.post_json(SIGN_UP_VERIFY, credential)


@refusal("passkeys.sign_up_verify", "expired-ceremony")
def _(world: World) -> Send:
    browser, _name, options = sign_up_options(world)
    credential = stranger(world).create(options)
    world.later(PAST_A_CEREMONY)
    return lambda: browser.post_json(SIGN_UP_VERIFY, credential)


@refusal("passkeys.sign_up_verify", "foreign-ceremony")
def _(world: World) -> Send:
    browser, _name, _options = sign_up_options(world)
    _other, _other_name, other_options = sign_up_options(world)
    credential = stranger(world).create(other_options)
    return lambda: browser.post_json(SIGN_UP_VERIFY, credential)


@refusal("passkeys.sign_up_verify", "no-thanks-after-the-options")
def _(world: World) -> Send:
    # Issue 14: tick the box, get the options, press "No thanks", let the device finish.
    browser, _name, options = sign_up_options(world)
    credential = stranger(world).create(options)
    page = browser.client.get("/signup/how").get_data(as_text=True)
    assert "/signup/no-passkey" in page
    expect(browser.post_form("/signup/no-passkey", notice_form(browser)), 302)
    return lambda: browser.post_json(SIGN_UP_VERIFY, credential)


@refusal("passkeys.sign_up_verify", "username-changed-after-the-options")
def _(world: World) -> Send:
    # Issue 14: ... or go back and choose another username, then let the device finish.
    browser, name, options = sign_up_options(world)
    credential = stranger(world).create(options)
    expect(browser.choose_username(name + "x"), 302)
    return lambda: browser.post_json(SIGN_UP_VERIFY, credential)


def _sign_up_cookie_replayed_after_a_rename(
    world: World, finish: Callable[[Browser], None]
) -> Browser:
    """A browser's sign-up cookie, copied when the username was chosen; the sign-up
    finishes (``finish``) and the account is renamed; a browser given the old copy then
    signs up with the freed username. The sign-up's account id has an account already."""
    browser, name = chose_username(world)
    cookie_name = world.app.config["SESSION_COOKIE_NAME"]
    copied = browser.client.get_cookie(cookie_name)
    assert copied is not None
    finish(browser)
    expect(browser.post_form("/account/profile", {"username": name + "r", "display_name": ""}), 302)
    again = world.browser()
    again.client.set_cookie(cookie_name, copied.value)
    return again


@refusal("passkeys.sign_up_verify", "sign-up-already-finished", status=409)
def _(world: World) -> Send:
    def with_a_passkey(browser: Browser) -> None:
        options = expect(browser.post_json(SIGN_UP_OPTIONS, notice_of(browser)), 200)
        expect(browser.post_json(SIGN_UP_VERIFY, stranger(world).create(options.get_json())), 200)

    again = _sign_up_cookie_replayed_after_a_rename(world, with_a_passkey)
    options = expect(again.post_json(SIGN_UP_OPTIONS, notice_of(again)), 200)
    credential = stranger(world).create(options.get_json())
    return lambda: again.post_json(SIGN_UP_VERIFY, credential)


@refusal("consent.decline_at_signup", "notice-hash-not-shown")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    form = {**notice_form(browser), "notice_sha256": "f" * 64}
    return lambda: browser.post_form("/signup/no-passkey", form)


@refusal("consent.decline_at_signup", "unexpected-field")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    return lambda: browser.post_form("/signup/no-passkey", {**notice_form(browser), "x": "1"})


@refusal("consent.decline_at_signup", "no-username-chosen", status=302)
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_form("/signup/no-passkey", notice_form(browser))


# sign-up with password + code -----------------------------------------------------------------


@refusal("fallback.signup_password", "weak-password")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    return lambda: browser.post_form("/signup/password", {"password": "password"})


@refusal("fallback.signup_password", "username-taken-meanwhile", status=409)
def _(world: World) -> Send:
    browser, name = chose_username(world, "takenmeanwhile")
    world.people.make(State.PASSKEY_ONLY, username=name)
    return lambda: browser.post_form("/signup/password", {"password": STRONG_PASSWORD})


@refusal("fallback.signup_password", "no-username-chosen", status=302)
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_form("/signup/password", {"password": STRONG_PASSWORD})


def _started_password_signup(world: World) -> tuple[Browser, str]:
    browser, _name = chose_username(world)
    expect(browser.post_form("/signup/password", {"password": STRONG_PASSWORD}), 302)
    page = browser.client.get("/signup/password/code").get_data(as_text=True)
    key = page.split('id="totp-key">', 1)[1].split("<", 1)[0].replace(" ", "")
    return browser, key


@refusal("fallback.signup_code", "wrong-code")
def _(world: World) -> Send:
    browser, key = _started_password_signup(world)
    code = totp_code(key, world.clock)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    return lambda: browser.post_form("/signup/password/code", {"code": wrong})


@refusal("fallback.signup_code", "expired-enrolment")
def _(world: World) -> Send:
    browser, key = _started_password_signup(world)
    world.later(PAST_AN_ENROLMENT)
    return lambda: browser.post_form("/signup/password/code", {"code": totp_code(key, world.clock)})


@refusal("fallback.signup_code", "enrolment-of-an-earlier-username")
def _(world: World) -> Send:
    # The code page of one username still open, the person chose another one meanwhile:
    # that is another sign-up (another account id), and the old enrolment is not finished.
    browser, key = _started_password_signup(world)
    world.signups += 1
    expect(browser.choose_username(f"newcomer{world.signups}"), 302)
    return lambda: browser.post_form("/signup/password/code", {"code": totp_code(key, world.clock)})


@refusal("fallback.signup_code", "sign-up-already-finished", status=409)
def _(world: World) -> Send:
    def with_a_password(browser: Browser) -> None:
        expect(browser.post_form("/signup/password", {"password": STRONG_PASSWORD}), 302)
        page = browser.client.get("/signup/password/code").get_data(as_text=True)
        key = page.split('id="totp-key">', 1)[1].split("<", 1)[0].replace(" ", "")
        code = {"code": totp_code(key, world.clock)}
        expect(browser.post_form("/signup/password/code", code), 200)

    again = _sign_up_cookie_replayed_after_a_rename(world, with_a_password)
    expect(again.post_form("/signup/password", {"password": STRONG_PASSWORD}), 302)
    page = again.client.get("/signup/password/code").get_data(as_text=True)
    key = page.split('id="totp-key">', 1)[1].split("<", 1)[0].replace(" ", "")
    return lambda: again.post_form("/signup/password/code", {"code": totp_code(key, world.clock)})


# sign-in ------------------------------------------------------------------------------------


@refusal("passkeys.sign_in_options", "not-a-json-object")
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_json(SIGN_IN_OPTIONS, [])


@refusal("passkeys.sign_in_options", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    browser = world.people.browser(world.people.app(**SWITCHED_OFF))
    return lambda: browser.post_json(SIGN_IN_OPTIONS)


@refusal("passkeys.sign_in_verify", "bad-signature")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = signed_out(person)
    credential = person.authenticator.get(browser.sign_in_options(), bad_signature=True)
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "expired-ceremony")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = signed_out(person)
    credential = person.authenticator.get(browser.sign_in_options())
    world.later(PAST_A_CEREMONY)
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "foreign-ceremony")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = signed_out(person)
    browser.sign_in_options()
    credential = person.authenticator.get(world.browser().sign_in_options())
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "withdrawn-passkey")
def _(world: World) -> Send:
    person = world.person(State.WITHDRAWN)
    browser = signed_out(person)
    credential = person.authenticator.get(browser.sign_in_options())
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    person = world.person(State.SWITCHED_OFF)
    browser = world.people.browser(world.app)
    credential = person.authenticator.get(browser.sign_in_options())
    off = world.people.browser(person.app)  # the same browser, after the operator's restart
    name = world.app.config["SESSION_COOKIE_NAME"]
    cookie = browser.client.get_cookie(name)
    assert cookie is not None
    off.client.set_cookie(name, cookie.value)
    return lambda: off.post_json(SIGN_IN_VERIFY, credential)


@refusal("fallback.signin_password", "wrong-password", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    browser = signed_out(person)
    assert person.password is not None
    account = person.password
    return lambda: browser.sign_in_with_password(account, world.clock, password="wrong " * 3)


@refusal("fallback.signin_password", "code-used-already", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    browser = signed_out(person)
    assert person.password is not None
    account = person.password
    world.later(NEXT_CODE)  # the sign-up used this time step's code
    expect(browser.sign_in_with_password(account, world.clock), 302)
    expect(browser.sign_out(), 302)
    return lambda: browser.sign_in_with_password(account, world.clock)


@refusal("fallback.signin_password", "another-persons-code", status=401)
def _(world: World) -> Send:
    person, other = world.person(State.PASSWORD_ONLY), world.person(State.PASSWORD_ONLY)
    browser = signed_out(person)
    assert person.password is not None
    assert other.password is not None
    code = totp_code(other.password.totp_key, world.clock)
    account = person.password
    return lambda: browser.sign_in_with_password(account, world.clock, code=code)


@refusal("fallback.signin_recovery", "another-persons-code", status=401)
def _(world: World) -> Send:
    person, other = world.person(State.PASSWORD_ONLY), world.person(State.PASSWORD_ONLY)
    browser = signed_out(person)
    form = {"username": person.username, "recovery_code": other.recovery_codes[0]}
    return lambda: browser.post_form("/signin/recovery", form)


@refusal("fallback.signin_recovery", "code-used-already", status=401)
def _(world: World) -> Send:
    person = world.person(State.RECOVERY)
    browser = signed_out(person)
    used = person.password.recovery_codes[0] if person.password else ""
    form = {"username": person.username, "recovery_code": used}
    return lambda: browser.post_form("/signin/recovery", form)


# the rollout's reports (issue 20 item 3) -------------------------------------------------


@refusal("pilot.ceremony_problem", "error-name-not-in-the-list")
def _(world: World) -> Send:
    browser = world.browser()
    body = {"ceremony": "sign_in", "error": "NotAllowedError: cancelled on Ada's phone"}
    return lambda: browser.post_json("/api/passkeys/problems", body)


@refusal("pilot.report_problem", "category-not-in-the-list")
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_form("/report-a-problem", {"category": "x", "text": "hello"})


@refusal("sessions.keep_alive", "signed-out", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = signed_out(person)
    return lambda: browser.post_json("/api/session/keep-alive")
