"""A refused request changes nothing (issue 14 item 3).

For every state-changing route in ``app.url_map`` (POST, PUT, PATCH, DELETE) the catalogue
below sends requests that must be refused, as a person or someone else's browser would send
them: malformed input, the wrong state, another person's object ids, expired or foreign
ceremonies, a consent flag, notice version or hash different from what the page showed. For
each, every row of every person-data table is read before and after on a connection of its
own (what is committed), and compared by full contents, not by counts.

- **Person-data tables** are derived from the models: every table with a column marked
  ``personal()`` (``authdemo.models.base``). No table is listed by hand.
- **Bookkeeping tables** may change, and only like this (until decision note 0012's table
  "use case -> what survives a refusal" lands, the allowed changes are stated here):

  ==============  ==========================================================================
  table           what a refusal may leave behind
  ==============  ==========================================================================
  ceremonies      the one ceremony the request presented is consumed (single use, WebAuthn
                  L3 §13.4.3): at most one row gone, none added, none changed
  audit_events    appended only: rows in :data:`REFUSAL_EVENTS` (a failed sign-in or
                  step-up is evidence, OWASP ASVS 5.0 V16.3.1); no row changed or removed
  ==============  ==========================================================================

- **Coverage**: every state-changing route is either exercised here or listed in
  :data:`NOT_EXERCISED` with the reason; a route added tomorrow fails
  ``test_every_state_changing_route_is_covered`` until someone decides which.

Cases marked ``xfail(strict=True)`` fail on ``main`` today (the sign-up scenario of issue
14: the verify is refused with 400 yet commits the account); the fix removes the marker.

What it costs: one app and database per module, and a fresh person per case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, text
from werkzeug.test import TestResponse

from authdemo.audit import Event
from authdemo.clock import FrozenClock
from authdemo.extensions import Database
from authdemo.models import Base
from tests.conftest import STRONG_PASSWORD, Browser, make_app, totp_code
from tests.support.accounts import SWITCHED_OFF, People, Person, State, expect, find_form
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.crawler import state_changing_routes

#: Bookkeeping tables (see the module docstring) and what may change in them.
CEREMONIES = "ceremonies"
AUDIT = "audit_events"
BOOKKEEPING = frozenset({CEREMONIES, AUDIT})
#: Audit events a refused request may append.
REFUSAL_EVENTS = frozenset({str(Event.SIGN_IN_FAILED), str(Event.STEP_UP_FAILED)})

#: State-changing routes this test does not send refusals to, and why.
NOT_EXERCISED: dict[tuple[str, str], str] = {
    ("sessions.signout", "POST"): (
        "takes no input and refuses nothing: signing out always succeeds, signed in or not "
        "(its CSRF refusal is in test_every_route)"
    ),
}

SIGN_UP_OPTIONS = "/api/passkeys/sign-up/options"
SIGN_UP_VERIFY = "/api/passkeys/sign-up/verify"
SIGN_IN_OPTIONS = "/api/passkeys/sign-in/options"
SIGN_IN_VERIFY = "/api/passkeys/sign-in/verify"
ADD_OPTIONS = "/api/passkeys/add/options"
ADD_VERIFY = "/api/passkeys/add/verify"
REAUTH_OPTIONS = "/api/reauth/options"
REAUTH_VERIFY = "/api/reauth/verify"
PAST_A_CEREMONY = 301  # CEREMONY_TIMEOUT_SECONDS + 1
PAST_STEP_UP = 301  # STEP_UP_SECONDS + 1
PAST_AN_ENROLMENT = 901  # ENROLMENT_TIMEOUT_SECONDS + 1
NEXT_CODE = 30  # one RFC 6238 time step


def person_data_tables() -> set[str]:
    """Every table with a column marked personal (GDPR Art 4(1)) in the models."""
    return {
        table.name
        for table in Base.metadata.sorted_tables
        if any(column.info.get("personal") for column in table.columns)
    }


# --- the world: one database, apps as an operator would run them, people made per case -----


@dataclass
class World:
    people: People
    clock: FrozenClock
    signups: int = 0

    @property
    def app(self) -> Flask:
        return self.people.app()

    def person(self, state: State) -> Person:
        return self.people.make(state)

    def browser(self) -> Browser:
        return self.people.browser()

    def later(self, seconds: float, *people: Person) -> None:
        """Time passes; each person's page is still open and loads once (a signed-in
        request slides the idle expiry, which is not what the case is about)."""
        self.clock.advance(seconds=seconds)
        for person in people:
            expect(person.browser.client.get("/account/sessions"), 200)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder: Path = tmp_path_factory.mktemp("refusals")
    clock = FrozenClock()
    people = People(lambda **settings: make_app(folder, clock, **settings), clock)
    people.app()
    people.app(**SWITCHED_OFF)  # made up front: a Redis test store is emptied per app
    return World(people, clock)


# --- snapshots ------------------------------------------------------------------------------


Rows = dict[str, list[tuple[Any, ...]]]


def snapshot(app: Flask) -> Rows:
    """Every row of every person-data table, as committed, sorted (row order is not data)."""
    tables = person_data_tables()
    engine = Database.engine_for(app)
    rows: Rows = {}
    with engine.connect() as connection:
        assert tables <= set(inspect(connection).get_table_names()), "a table is missing"
        for name in sorted(tables):
            result = connection.execute(text(f'SELECT * FROM "{name}"'))
            columns = list(result.keys())
            rows[name] = sorted(
                (tuple(zip(columns, row, strict=True)) for row in result.all()), key=repr
            )
    return rows


def assert_nothing_changed(before: Rows, after: Rows) -> None:
    for name in sorted(set(before) - BOOKKEEPING):
        gone = [row for row in before[name] if row not in after[name]]
        new = [row for row in after[name] if row not in before[name]]
        assert not gone, f"{name} changed: rows removed or altered: {_short(gone)}"
        assert not new, f"{name} changed: rows added or altered: {_short(new)}"
    ceremonies_gone = [row for row in before[CEREMONIES] if row not in after[CEREMONIES]]
    assert all(row in before[CEREMONIES] for row in after[CEREMONIES]), "a ceremony was made"
    assert len(ceremonies_gone) <= 1, "more than the presented ceremony was consumed"
    assert all(row in after[AUDIT] for row in before[AUDIT]), "the audit trail was rewritten"
    added = [dict(row) for row in after[AUDIT] if row not in before[AUDIT]]
    events = {row["event"] for row in added}
    assert events <= REFUSAL_EVENTS, f"a refusal audited {events - REFUSAL_EVENTS}"


def _short(rows: list[tuple[Any, ...]]) -> str:
    """The first columns of each row: enough to see which rows, without the key bytes."""
    return "; ".join(repr(row[:3]) for row in rows)


# --- the catalogue ----------------------------------------------------------------------------

Send = Callable[[], TestResponse]


@dataclass(frozen=True)
class Refusal:
    endpoint: str
    method: str
    name: str
    #: Sets the scene (not measured) and returns the request that must be refused.
    prepare: Callable[[World], Send]
    #: The answer: any 4xx when None. A redirect is allowed where the app answers a
    #: refused form that way (to the step-up page, or back to the form with a message).
    status: int | None = None

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.name}"


CATALOGUE: list[Refusal] = []


def refusal(
    endpoint: str, name: str, *, status: int | None = None, method: str = "POST"
) -> Callable[[Callable[[World], Send]], Callable[[World], Send]]:
    def register(prepare: Callable[[World], Send]) -> Callable[[World], Send]:
        CATALOGUE.append(Refusal(endpoint, method, name, prepare, status))
        return prepare

    return register


def notice_of(browser: Browser) -> dict[str, Any]:
    """What the opt-in page sends once the box is ticked (version and hash it showed)."""
    return browser.consent()


def chose_username(world: World, username: str | None = None) -> tuple[Browser, str]:
    browser = world.browser()
    world.signups += 1
    name = username or f"newcomer{world.signups}"
    expect(browser.choose_username(name), 302)
    return browser, name


def sign_up_options(world: World) -> tuple[Browser, str, dict[str, Any]]:
    browser, name = chose_username(world)
    response = expect(browser.post_json(SIGN_UP_OPTIONS, notice_of(browser)), 200)
    return browser, name, response.get_json()


def stranger(world: World) -> SoftwareAuthenticator:
    settings = world.app.extensions["authdemo.settings"]
    return SoftwareAuthenticator(rp_id=settings.RP_ID, origin=settings.ORIGIN)


def without_allow_list(options: dict[str, Any]) -> dict[str, Any]:
    """Options as a device that ignores ``allowCredentials`` would read them."""
    inner = options.get("publicKey", options)
    return {**inner, "allowCredentials": []}


def passkey_ids(person: Person) -> list[int]:
    """The ids of the person's passkeys, as their passkeys page links them."""
    page = person.browser.client.get("/account/passkeys").get_data(as_text=True)
    return sorted({int(found) for found in re.findall(r"/account/passkeys/(\d+)/", page)})


def session_ids(person: Person) -> list[int]:
    """The ids of the person's sessions, as their sessions page shows them."""
    page = person.browser.client.get("/account/sessions").get_data(as_text=True)
    return sorted({int(found) for found in re.findall(r'id="session-(\d+)"', page)})


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
    expect(browser.post_form("/signup/no-passkey", _notice_form(browser)), 302)
    return lambda: browser.post_json(SIGN_UP_VERIFY, credential)


@refusal("passkeys.sign_up_verify", "username-changed-after-the-options")
def _(world: World) -> Send:
    # Issue 14: ... or go back and choose another username, then let the device finish.
    browser, name, options = sign_up_options(world)
    credential = stranger(world).create(options)
    expect(browser.choose_username(name + "x"), 302)
    return lambda: browser.post_json(SIGN_UP_VERIFY, credential)


def _notice_form(browser: Browser) -> dict[str, str]:
    shown = notice_of(browser)
    return {"notice_version": shown["notice_version"], "notice_sha256": shown["notice_sha256"]}


@refusal("consent.decline_at_signup", "notice-hash-not-shown")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    form = {**_notice_form(browser), "notice_sha256": "f" * 64}
    return lambda: browser.post_form("/signup/no-passkey", form)


@refusal("consent.decline_at_signup", "unexpected-field")
def _(world: World) -> Send:
    browser, _name = chose_username(world)
    return lambda: browser.post_form("/signup/no-passkey", {**_notice_form(browser), "x": "1"})


@refusal("consent.decline_at_signup", "no-username-chosen", status=302)
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_form("/signup/no-passkey", _notice_form(browser))


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


# sign-in ------------------------------------------------------------------------------------


@refusal("passkeys.sign_in_options", "not-a-json-object")
def _(world: World) -> Send:
    browser = world.browser()
    return lambda: browser.post_json(SIGN_IN_OPTIONS, [])


@refusal("passkeys.sign_in_options", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    browser = world.people.browser(world.people.app(**SWITCHED_OFF))
    return lambda: browser.post_json(SIGN_IN_OPTIONS)


def _signed_out(person: Person) -> Browser:
    browser = person.browser
    expect(browser.sign_out(), 302)
    return browser


@refusal("passkeys.sign_in_verify", "bad-signature")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = _signed_out(person)
    credential = person.authenticator.get(browser.sign_in_options(), bad_signature=True)
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "expired-ceremony")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = _signed_out(person)
    credential = person.authenticator.get(browser.sign_in_options())
    world.later(PAST_A_CEREMONY)
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "foreign-ceremony")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    browser = _signed_out(person)
    browser.sign_in_options()
    credential = person.authenticator.get(world.browser().sign_in_options())
    return lambda: browser.post_json(SIGN_IN_VERIFY, credential)


@refusal("passkeys.sign_in_verify", "withdrawn-passkey")
def _(world: World) -> Send:
    person = world.person(State.WITHDRAWN)
    browser = _signed_out(person)
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
    browser = _signed_out(person)
    assert person.password is not None
    account = person.password
    return lambda: browser.sign_in_with_password(account, world.clock, password="wrong " * 3)


@refusal("fallback.signin_password", "code-used-already", status=401)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    browser = _signed_out(person)
    assert person.password is not None
    account = person.password
    world.later(NEXT_CODE)  # the sign-up used this time step's code
    expect(browser.sign_in_with_password(account, world.clock), 302)
    expect(browser.sign_out(), 302)
    return lambda: browser.sign_in_with_password(account, world.clock)


@refusal("fallback.signin_password", "another-persons-code", status=401)
def _(world: World) -> Send:
    person, other = world.person(State.PASSWORD_ONLY), world.person(State.PASSWORD_ONLY)
    browser = _signed_out(person)
    assert person.password is not None
    assert other.password is not None
    code = totp_code(other.password.totp_key, world.clock)
    account = person.password
    return lambda: browser.sign_in_with_password(account, world.clock, code=code)


@refusal("fallback.signin_recovery", "another-persons-code", status=401)
def _(world: World) -> Send:
    person, other = world.person(State.PASSWORD_ONLY), world.person(State.PASSWORD_ONLY)
    browser = _signed_out(person)
    form = {"username": person.username, "recovery_code": other.recovery_codes[0]}
    return lambda: browser.post_form("/signin/recovery", form)


@refusal("fallback.signin_recovery", "code-used-already", status=401)
def _(world: World) -> Send:
    person = world.person(State.RECOVERY)
    browser = _signed_out(person)
    used = person.password.recovery_codes[0] if person.password else ""
    form = {"username": person.username, "recovery_code": used}
    return lambda: browser.post_form("/signin/recovery", form)


# step-up ------------------------------------------------------------------------------------


@refusal("stepup.passkey_options", "passkeys-switched-off", status=403)
def _(world: World) -> Send:
    person = world.person(State.SWITCHED_OFF)
    return lambda: person.browser.post_json(REAUTH_OPTIONS)


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


@refusal("fallback.change_password", "weak-password", status=302)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    return lambda: person.browser.post_form("/account/password", {"new_password": "abc"})


@refusal("fallback.change_password", "no-password-to-change", status=302)
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {"new_password": STRONG_PASSWORD + " two"}
    return lambda: person.browser.post_form("/account/password", form)


@refusal("fallback.remove", "last-way-in", status=302)
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
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
    form = {**_notice_form(person.browser), "notice_sha256": "b" * 64}
    return lambda: person.browser.post_form("/account/passkeys/consent/no-thanks", form)


@refusal("consent.decline", "unexpected-field")
def _(world: World) -> Send:
    person = world.person(State.PASSWORD_ONLY)
    form = {**_notice_form(person.browser), "consent": "yes"}
    return lambda: person.browser.post_form("/account/passkeys/consent/no-thanks", form)


@refusal("consent.withdraw", "notice-version-not-shown")
def _(world: World) -> Send:
    person = world.person(State.BOTH)
    form = {**_notice_form(person.browser), "notice_version": "99"}
    return lambda: person.browser.post_form("/account/passkeys/consent/withdraw", form)


@refusal("consent.withdraw", "unknown-source")
def _(world: World) -> Send:
    person = world.person(State.BOTH)
    form = {**_notice_form(person.browser), "source": "elsewhere"}
    return lambda: person.browser.post_form("/account/passkeys/consent/withdraw", form)


@refusal("consent.reconsent", "notice-hash-not-shown")
def _(world: World) -> Send:
    person = world.person(State.PASSKEY_ONLY)
    form = {**_notice_form(person.browser), "notice_sha256": "c" * 64}
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


# --- the tests --------------------------------------------------------------------------------

#: Cases that fail on main as of d62a2a2: the verify is refused with 400 yet commits the user,
#: the passkey and a session with no consent row (issue 14, first scenario). The transaction
#: fix (issue 14 items 1-2) makes them pass; strict, so the marker must then be removed.
FAILS_TODAY = {
    "passkeys.sign_up_verify:no-thanks-after-the-options": "issue 14: account without consent",
    "passkeys.sign_up_verify:username-changed-after-the-options": (
        "issue 14: account without consent"
    ),
}


def _params() -> Iterator[Any]:
    for case in CATALOGUE:
        marks = []
        if case.id in FAILS_TODAY:
            marks.append(pytest.mark.xfail(strict=True, reason=FAILS_TODAY[case.id]))
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_a_refused_request_changes_no_person_data(world: World, case: Refusal) -> None:
    send = case.prepare(world)
    before = snapshot(world.app)
    response = send()
    after = snapshot(world.app)
    where = f"{case.method} {response.request.path} ({case.name})"
    if case.status is None:
        assert 400 <= response.status_code < 500, f"{where}: {response.status_code}"
    else:
        assert response.status_code == case.status, f"{where}: {response.status_code}"
    assert_nothing_changed(before, after)


def test_every_state_changing_route_is_covered(world: World) -> None:
    routes = {(rule.endpoint, method) for rule, method in state_changing_routes(world.app)}
    exercised = {(case.endpoint, case.method) for case in CATALOGUE}
    assert not exercised & set(NOT_EXERCISED), "a route is both exercised and excused"
    missing = routes - exercised - set(NOT_EXERCISED)
    assert not missing, f"state-changing routes no refusal is sent to: {sorted(missing)}"
    assert exercised <= routes, f"catalogue names routes that are gone: {exercised - routes}"


def test_person_data_tables_come_from_the_models() -> None:
    # Guards the derivation: the account's own tables and both bookkeeping tables are in.
    tables = person_data_tables()
    assert {"users", "passkeys", "user_sessions", "consent_events"} <= tables
    assert tables >= BOOKKEEPING


def test_the_snapshot_sees_a_changed_row(world: World) -> None:
    # Guards the comparison: a change of one column of one row is seen (not just counts).
    person = world.person(State.PASSKEY_ONLY)
    before = snapshot(world.app)
    form = {"username": person.username, "display_name": "Someone Else"}
    expect(person.browser.post_form("/account/profile", form), 302)
    with pytest.raises(AssertionError, match="users changed"):
        assert_nothing_changed(before, snapshot(world.app))
