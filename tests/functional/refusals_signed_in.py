"""Requests that must be refused, sent by a signed-in person: step-up, adding and
managing passkeys, sessions, the page language, profile, password + code, consent,
erasure."""

from __future__ import annotations

from typing import Any

from tests.conftest import STRONG_PASSWORD
from tests.functional.passkey_support import (
    ADD_OPTIONS,
    ADD_VERIFY,
)
from tests.functional.refusals_world import (
    PAST_A_CEREMONY,
    PAST_STEP_UP,
    REAUTH_OPTIONS,
    REAUTH_VERIFY,
    Send,
    World,
    notice_form,
    notice_of,
    passkey_ids,
    receipt_ids,
    refusal,
    session_ids,
    stranger,
    without_allow_list,
)
from tests.support.accounts import SWITCHED_OFF, Person, State, expect, find_form

# step-up ------------------------------------------------------------------------------------


@refusal("stepup.passkey_options", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    # Passkey sign-in switched off, and the account has a password + code to confirm
    # with: its passkey does not step up (a passkey-only account's does: decision 0013).
    person = world.person(State.BOTH)
    switched = world.people.browser(world.people.app(**SWITCHED_OFF))
    for name, value in person.cookies().items():
        switched.client.set_cookie(name, value)
    return lambda: switched.post_json(REAUTH_OPTIONS)


@refusal("stepup.passkey_options", "not-a-json-object")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    return lambda: person.browser.post_json(REAUTH_OPTIONS, [])


@refusal("stepup.passkey_verify", "another-persons-passkey")
def _(world: World) -> Send:
    person, other = world.person(State.PASSKEY_ONLY), world.person(State.PASSKEY_ONLY)
    options = expect(person.browser.post_json(REAUTH_OPTIONS), 200).get_json()
    credential = other.authenticator.get(without_allow_list(options))
    return lambda: person.browser.post_json(REAUTH_VERIFY, credential)


@refusal("stepup.passkey_verify", "expired-ceremony")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    options = expect(person.browser.post_json(REAUTH_OPTIONS), 200).get_json()
    credential = person.authenticator.get(options)
    world.later(PAST_A_CEREMONY, person)
    return lambda: person.browser.post_json(REAUTH_VERIFY, credential)


@refusal("stepup.passkey_verify", "bad-signature")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    options = expect(person.browser.post_json(REAUTH_OPTIONS), 200).get_json()
    credential = person.authenticator.get(options, bad_signature=True)
    return lambda: person.browser.post_json(REAUTH_VERIFY, credential)


@refusal("stepup.password", "wrong-code", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    assert person.password is not None
    form = {"password": person.password.password, "code": "000000", "next": "/account"}
    return lambda: person.browser.post_form("/reauth/password", form)


@refusal("stepup.password", "no-password-at-all", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {"password": STRONG_PASSWORD, "code": "123456", "next": "/account"}
    return lambda: person.browser.post_form("/reauth/password", form)


# adding a passkey -----------------------------------------------------------------------------


@refusal("passkeys.add_options", "box-not-ticked")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    body = {**notice_of(person.browser), "consent": False}
    return lambda: person.browser.post_json(ADD_OPTIONS, body)


@refusal("passkeys.add_options", "notice-hash-not-shown")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    body = {**notice_of(person.browser), "notice_sha256": "a" * 64}
    return lambda: person.browser.post_json(ADD_OPTIONS, body)


@refusal("passkeys.add_options", "not-confirmed-recently", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    world.later(PAST_STEP_UP, person)
    return lambda: person.browser.post_json(ADD_OPTIONS, notice_of(person.browser))


@refusal("passkeys.add_options", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    person = world.person(State.SWITCHED_OFF)
    return lambda: person.browser.post_json(ADD_OPTIONS, notice_of(person.browser))


def _add_options(person: Person) -> dict[str, Any]:
    response = person.browser.post_json(ADD_OPTIONS, notice_of(person.browser))
    options: dict[str, Any] = expect(response, 200).get_json()
    return options


@refusal("passkeys.add_verify", "foreign-ceremony")
def _(world: World) -> Send:
    person, other = world.person(State.PASSWORD_ONLY), world.person(State.PASSWORD_ONLY)
    _add_options(person)
    credential = person.authenticator.create(_add_options(other))
    return lambda: person.browser.post_json(ADD_VERIFY, credential)


@refusal("passkeys.add_verify", "expired-ceremony")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    credential = person.authenticator.create(_add_options(person))
    world.later(PAST_A_CEREMONY, person)
    return lambda: person.browser.post_json(ADD_VERIFY, credential)


@refusal("passkeys.add_verify", "not-a-credential")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    _add_options(person)
    return lambda: person.browser.post_json(ADD_VERIFY, {"id": 1})


@refusal("passkeys.add_verify", "withdrawn-in-another-tab")
def _(world: World) -> Send:
    person = world.person(State.BOTH)
    credential = stranger(world).create(_add_options(person))  # a second device
    form = find_form(person.browser, "/account", action="/account/passkeys/consent/withdraw")
    expect(person.browser.client.post(form.action, data=form.values), 302)
    return lambda: person.browser.post_json(ADD_VERIFY, credential)


# managing passkeys ----------------------------------------------------------------------------


@refusal("account.rename_passkey", "another-persons-passkey")
def _(world: World) -> Send:
    person, other = world.person(State.PASSKEY_ONLY), world.person(State.PASSKEY_ONLY)
    url = f"/account/passkeys/{passkey_ids(other)[0]}/name"
    return lambda: person.browser.post_form(url, {"name": "mine now"})


@refusal("account.rename_passkey", "name-too-long")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    url = f"/account/passkeys/{passkey_ids(person)[0]}/name"
    return lambda: person.browser.post_form(url, {"name": "x" * 65})


@refusal("account.rename_passkey", "no-such-passkey")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    return lambda: person.browser.post_form("/account/passkeys/2147483647/name", {"name": "a"})


@refusal("account.remove_passkey", "another-persons-passkey")
def _(world: World) -> Send:
    person, other = world.person(State.BOTH), world.person(State.BOTH)
    url = f"/account/passkeys/{passkey_ids(other)[0]}/remove"
    return lambda: person.browser.post_form(url, {})


@refusal("account.remove_passkey", "last-way-in")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    url = f"/account/passkeys/{passkey_ids(person)[0]}/remove"
    return lambda: person.browser.post_form(url, {})


@refusal("account.remove_passkey", "not-confirmed-recently", status=302)
def _(world: World) -> Send:
    person = world.person(State.BOTH)
    world.later(PAST_STEP_UP, person)
    url = f"/account/passkeys/{passkey_ids(person)[0]}/remove"
    return lambda: person.browser.post_form(url, {})


# sessions -----------------------------------------------------------------------------------


@refusal("account.label_device", "label-too-long")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    return lambda: person.browser.post_form(
        "/account/sessions/device-label", {"device_label": "x" * 65}
    )


@refusal("account.sign_out_session", "another-persons-session")
def _(world: World) -> Send:
    person, other = world.person(State.PASSKEY_ONLY), world.person(State.PASSKEY_ONLY)
    url = f"/account/sessions/{session_ids(other)[0]}/sign-out"
    return lambda: person.browser.post_form(url, {})


@refusal("account.sign_out_others", "restricted-session", status=302)
def _(world: World) -> Send:
    person = world.person(State.RECOVERY)
    return lambda: person.browser.post_form("/account/sessions/sign-out-others", {})


# language ------------------------------------------------------------------------------------


@refusal("main.choose_language", "language-not-offered", status=400)
def _(world: World) -> Send:
    # The account's stored language stays as it was (issue 19 item 1).
    person = world.person(State.PASSKEY_ONLY)
    form = {"language": "xx", "next": "/account"}
    return lambda: person.browser.post_form("/language", form)


# profile --------------------------------------------------------------------------------------


@refusal("account.profile", "another-persons-username", status=409)
def _(world: World) -> Send:
    person, other = world.person(State.PASSKEY_ONLY), world.person(State.PASSKEY_ONLY)
    form = {"username": other.username, "display_name": ""}
    return lambda: person.browser.post_form("/account/profile", form)


@refusal("account.profile", "malformed-username")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {"username": ".dot first", "display_name": ""}
    return lambda: person.browser.post_form("/account/profile", form)


# password + code on the account -------------------------------------------------------------


@refusal("fallback.setup", "weak-password")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    return lambda: person.browser.post_form("/account/password-code/setup", {"password": "abc"})


@refusal("fallback.setup", "not-confirmed-recently", status=302)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    world.later(PAST_STEP_UP, person)
    form = {"password": STRONG_PASSWORD}
    return lambda: person.browser.post_form("/account/password-code/setup", form)


@refusal("fallback.setup_code", "wrong-code")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {"password": STRONG_PASSWORD}
    expect(person.browser.post_form("/account/password-code/setup", form), 302)
    return lambda: person.browser.post_form("/account/password-code/confirm", {"code": "12"})


@refusal("fallback.change_password", "weak-password", status=400)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    return lambda: person.browser.post_form("/account/password", {"new_password": "abc"})


@refusal("fallback.change_password", "no-password-to-change", status=400)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {"new_password": STRONG_PASSWORD + " two"}
    return lambda: person.browser.post_form("/account/password", form)


@refusal("fallback.remove", "last-way-in", status=409)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    return lambda: person.browser.post_form("/account/password-code/remove", {})


@refusal("fallback.remove", "nothing-to-remove", status=400)
def _(world: World) -> Send:
    # A passkey-only person has no password + code: there is nothing to remove.
    person = world.person(State.PASSKEY_ONLY)
    return lambda: person.browser.post_form("/account/password-code/remove", {})


@refusal("fallback.regenerate_codes", "not-confirmed-recently", status=302)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    world.later(PAST_STEP_UP, person)
    return lambda: person.browser.post_form("/account/recovery-codes", {})


@refusal("fallback.regenerate_codes", "restricted-session", status=302)
def _(world: World) -> Send:
    person = world.person(State.RECOVERY)
    return lambda: person.browser.post_form("/account/recovery-codes", {})


# consent on the account ------------------------------------------------------------------------


@refusal("consent.decline", "notice-hash-not-shown")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    form = {**notice_form(person.browser), "notice_sha256": "b" * 64}
    return lambda: person.browser.post_form("/account/passkeys/consent/no-thanks", form)


@refusal("consent.decline", "unexpected-field")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    form = {**notice_form(person.browser), "consent": "yes"}
    return lambda: person.browser.post_form("/account/passkeys/consent/no-thanks", form)


@refusal("receipts.download", "another-persons-receipt", status=404)
def _(world: World) -> Send:
    owner, other = world.person(State.BOTH), world.person(State.PASSKEY_ONLY)
    theirs = receipt_ids(owner)[0]
    return lambda: other.browser.post_form(f"/account/consent/receipts/{theirs}", {})


@refusal("receipts.download", "unexpected-field")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    own = receipt_ids(person)[0]
    form = {"include_username": "yes", "username": "someone-else"}
    return lambda: person.browser.post_form(f"/account/consent/receipts/{own}", form)


@refusal("consent.withdraw", "notice-version-not-shown")
def _(world: World) -> Send:
    person = world.person(State.BOTH)
    form = {**notice_form(person.browser), "notice_version": "99"}
    return lambda: person.browser.post_form("/account/passkeys/consent/withdraw", form)


@refusal("consent.withdraw", "last-passkey-from-an-old-session", status=302)
def _(world: World) -> Send:
    # Withdrawing would leave nothing to confirm with: an old session must step up first.
    person = world.person(State.PASSKEY_ONLY)
    world.later(PAST_STEP_UP, person)
    form = find_form(person.browser, "/account", action="/account/passkeys/consent/withdraw")
    return lambda: person.browser.client.post(form.action, data=form.values)


@refusal("consent.withdraw", "unknown-source")
def _(world: World) -> Send:
    person = world.person(State.BOTH)
    form = {**notice_form(person.browser), "source": "elsewhere"}
    return lambda: person.browser.post_form("/account/passkeys/consent/withdraw", form)


@refusal("consent.reconsent", "notice-hash-not-shown")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {**notice_form(person.browser), "notice_sha256": "c" * 64}
    return lambda: person.browser.post_form("/account/passkeys/consent/renew", form)


# erasure --------------------------------------------------------------------------------------


def _delete_form(person: Person) -> dict[str, str]:
    return find_form(person.browser, "/privacy/delete", action="/privacy/delete").values


@refusal("privacy.delete_account", "wrong-username-typed", status=422)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {**_delete_form(person), "confirm_username": person.username + "x"}
    return lambda: person.browser.client.post("/privacy/delete", data=form)


@refusal("privacy.delete_account", "another-persons-username-typed", status=422)
def _(world: World) -> Send:
    person, other = world.person(State.PASSKEY_ONLY), world.person(State.PASSKEY_ONLY)
    form = {**_delete_form(person), "confirm_username": other.username}
    return lambda: person.browser.client.post("/privacy/delete", data=form)


@refusal("privacy.delete_account", "another-sessions-confirmation")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    other_device = world.browser()
    expect(other_device.sign_in_with_passkey(person.authenticator), 200)
    foreign = _delete_form(
        Person(person.state, person.username, person.app, other_device, person.authenticator)
    )["confirmation"]
    form = {**_delete_form(person), "confirmation": foreign, "confirm_username": person.username}
    return lambda: person.browser.client.post("/privacy/delete", data=form)


@refusal("privacy.delete_account", "not-confirmed-recently", status=302)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {**_delete_form(person), "confirm_username": person.username}
    world.later(PAST_STEP_UP, person)
    return lambda: person.browser.client.post("/privacy/delete", data=form)
