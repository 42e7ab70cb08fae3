"""People in every account state, made the way a person makes them: through the app's own
pages and endpoints (the software authenticator for passkeys, TOTP codes computed from the
key the enrolment page shows, forms submitted with the fields the page gives). No row is
inserted by hand, so a state exists only if the app can really get into it.

=================  ================================================================
state              how the person got there
=================  ================================================================
passkey-only       signed up with a passkey
password-only      signed up with a password and one-time code (has recovery codes)
both               password + code sign-up, then added a passkey on the account page
withdrawn          passkey-only, then withdrew consent on the account page (one click)
switched-off       passkey-only, then the operator restarted with both kill switches off
not-offered        passkey-only, signed up in a rollout country, now browsing elsewhere
recovery           password-only, signed out, signed back in with a recovery code
                   (a restricted session)
no-way-in          both, removed password + code, then withdrew: recovery codes only,
                   which lead back in but only to a restricted session
=================  ================================================================

Every person is signed in when made (a live session in ``person.browser``). Passkey
availability is decided per request from a trusted proxy's country header here
(``COUNTRY_HEADER``), so one app serves both the rollout country and elsewhere.

Used by the functional suite (``test_refusals_change_nothing.py``, ``test_no_dead_ends.py``,
``test_account_states.py``). An end-to-end test makes the same people with a ``People``
whose factory returns its live server's app (configured with :data:`ROLLOUT`; the
switched-off state needs a second server with :data:`SWITCHED_OFF`), then opens a browser
context as the person with :func:`into_context`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import Browser, PasswordAccount, totp_code
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.pages import Form, read_page

#: Settings every app made for these people shares: passkeys are rolled out in the EU,
#: and the trusted proxy says where each request comes from.
COUNTRY_HEADER = "X-Country"
ROLLOUT = {"COUNTRY_HEADER": COUNTRY_HEADER, "PASSKEY_JURISDICTIONS": "EU"}
#: The operator's kill switches, both off (``docs/deployment.md``).
SWITCHED_OFF = {"PASSKEY_SIGNIN_ENABLED": "false", "PASSKEY_ENROLMENT_ENABLED": "false"}
#: For tests that are not about password hashing: argon2id at its cheapest (allowed only
#: with ENV=testing), so making people costs milliseconds rather than a second each.
QUICK_HASHING = {"ARGON2_MEMORY_KIB": "1024", "ARGON2_TIME_COST": "1"}
HOME_COUNTRY = "DE"
ELSEWHERE = "US"


class State(enum.StrEnum):
    PASSKEY_ONLY = "passkey-only"
    PASSWORD_ONLY = "password-only"
    BOTH = "both"
    WITHDRAWN = "withdrawn"
    SWITCHED_OFF = "switched-off"
    NOT_OFFERED = "not-offered"
    RECOVERY = "recovery"
    NO_WAY_IN = "no-way-in"


#: States in which the person has no way in left (issue 14 item 4): a passkey that
#: cannot be used here and now, or only recovery codes.
WITHOUT_A_WAY_IN = frozenset(
    {State.WITHDRAWN, State.SWITCHED_OFF, State.NOT_OFFERED, State.NO_WAY_IN}
)

#: Makes an app on the shared database, with these settings on top of ``ROLLOUT``.
AppFactory = Callable[..., Flask]


@dataclass
class Person:
    state: State
    username: str
    #: The app as this person meets it now (after a restart, for ``switched-off``).
    app: Flask
    #: Signed in, with the person's cookies.
    browser: Browser
    authenticator: SoftwareAuthenticator
    password: PasswordAccount | None = None
    #: Recovery codes not used yet (as shown to the person).
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        """Read (not written) from the database: the opaque id the URLs never show."""
        with self.app.app_context():
            return db.session.execute(
                select(User.id).where(User.username == self.username)
            ).scalar_one()

    def cookies(self) -> dict[str, str]:
        """The browser's session cookie, to carry the signed-in session into another
        client (a restarted app's, or a real browser's context)."""
        name = self.app.config["SESSION_COOKIE_NAME"]
        cookie = self.browser.client.get_cookie(name)
        return {} if cookie is None else {name: cookie.value}


class People:
    """Makes people in any :class:`State` on one database.

    ``app_factory(**settings)`` returns an app on the shared database with ``settings``
    applied on top of :data:`ROLLOUT` (the functional suite passes ``make_app`` bound to
    the test's folder); apps are made once per set of settings, as an operator restarts.
    """

    def __init__(self, app_factory: AppFactory, clock: FrozenClock) -> None:
        self._factory = app_factory
        self.clock = clock
        self._apps: dict[frozenset[tuple[str, str]], Flask] = {}
        self._count = 0

    def app(self, **settings: str) -> Flask:
        key = frozenset(settings.items())
        if key not in self._apps:
            self._apps[key] = self._factory(**ROLLOUT, **settings)
        return self._apps[key]

    def browser(self, app: Flask | None = None, country: str = HOME_COUNTRY) -> Browser:
        browser = Browser((app or self.app()).test_client())
        place(browser, country)
        return browser

    def make(self, state: State, username: str | None = None) -> Person:
        self._count += 1
        name = username or f"{state.value.replace('-', '')[:20]}{self._count}"
        return _BUILDERS[state](self, name)

    # --- the steps people take ----------------------------------------------------------

    def _authenticator(self, app: Flask) -> SoftwareAuthenticator:
        settings = app.extensions["authdemo.settings"]
        return SoftwareAuthenticator(rp_id=settings.RP_ID, origin=settings.ORIGIN)

    def passkey_only(self, username: str) -> Person:
        app = self.app()
        browser, authenticator = self.browser(app), self._authenticator(app)
        expect(browser.sign_up_with_passkey(authenticator, username), 200)
        return Person(State.PASSKEY_ONLY, username, app, browser, authenticator)

    def password_only(self, username: str) -> Person:
        app = self.app()
        browser = self.browser(app)
        account = browser.sign_up_with_password(self.clock, username)
        return Person(
            State.PASSWORD_ONLY,
            username,
            app,
            browser,
            self._authenticator(app),
            password=account,
            recovery_codes=list(account.recovery_codes),
        )

    def both(self, username: str) -> Person:
        person = self.password_only(username)
        browser = person.browser
        options = expect(browser.post_json("/api/passkeys/add/options", browser.consent()), 200)
        credential = person.authenticator.create(options.get_json())
        expect(browser.post_json("/api/passkeys/add/verify", credential), 200)
        person.state = State.BOTH
        return person

    def withdrawn(self, username: str) -> Person:
        person = self.passkey_only(username)
        submit(person.browser, "/account", action="/account/passkeys/consent/withdraw")
        person.state = State.WITHDRAWN
        return person

    def switched_off(self, username: str) -> Person:
        person = self.passkey_only(username)
        restarted = self.app(**SWITCHED_OFF)
        browser = self.browser(restarted)
        for name, value in person.cookies().items():
            browser.client.set_cookie(name, value)
        person.app, person.browser, person.state = restarted, browser, State.SWITCHED_OFF
        return person

    def not_offered(self, username: str) -> Person:
        person = self.passkey_only(username)
        place(person.browser, ELSEWHERE)
        person.state = State.NOT_OFFERED
        return person

    def recovery(self, username: str) -> Person:
        person = self.password_only(username)
        browser = person.browser
        expect(browser.sign_out(), 302)
        code = person.recovery_codes.pop(0)
        signed_in = browser.post_form(
            "/signin/recovery", {"username": username, "recovery_code": code}
        )
        expect(signed_in, 302)
        person.state = State.RECOVERY
        return person

    def no_way_in(self, username: str) -> Person:
        person = self.both(username)
        submit(person.browser, "/account/password-code", action="/account/password-code/remove")
        submit(person.browser, "/account", action="/account/passkeys/consent/withdraw")
        person.password = None
        person.state = State.NO_WAY_IN
        return person


_BUILDERS: dict[State, Callable[[People, str], Person]] = {
    State.PASSKEY_ONLY: People.passkey_only,
    State.PASSWORD_ONLY: People.password_only,
    State.BOTH: People.both,
    State.WITHDRAWN: People.withdrawn,
    State.SWITCHED_OFF: People.switched_off,
    State.NOT_OFFERED: People.not_offered,
    State.RECOVERY: People.recovery,
    State.NO_WAY_IN: People.no_way_in,
}


def place(browser: Browser, country: str) -> None:
    """Where the trusted proxy says this browser's requests come from."""
    browser.client.environ_base["HTTP_" + COUNTRY_HEADER.upper().replace("-", "_")] = country


def country_of(person: Person) -> str:
    environ = person.browser.client.environ_base
    return str(environ["HTTP_" + COUNTRY_HEADER.upper().replace("-", "_")])


def into_context(context: Any, person: Person, base_url: str) -> None:
    """Make a Playwright ``BrowserContext`` this person, on a live server made with the
    same settings: their session cookie, and the country header the proxy would add."""
    context.add_cookies(
        [
            {"name": name, "value": value, "url": base_url}
            for name, value in person.cookies().items()
        ]
    )
    context.set_extra_http_headers({COUNTRY_HEADER: country_of(person)})


def expect(response: TestResponse, status: int) -> TestResponse:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.path}: {response.status_code} "
        f"{response.get_data(as_text=True)[:400]}"
    )
    return response


def find_form(browser: Browser, url: str, *, action: str) -> Form:
    """The form on ``url`` that posts to ``action``, as the page shows it."""
    response = expect(browser.client.get(url), 200)
    page = read_page(url, 200, response.get_data(as_text=True))
    forms = [form for form in page.forms if form.action == action]
    assert forms, f"no form for {action} on {url}: {[f.action for f in page.forms]}"
    return forms[0]


def submit(
    browser: Browser, url: str, *, action: str, typed: dict[str, str] | None = None
) -> TestResponse:
    """Open ``url``, fill in the form that posts to ``action`` and press its button;
    the answer must be a redirect (a form that worked)."""
    form = find_form(browser, url, action=action)
    data: dict[str, Any] = {**form.values, **(typed or {})}
    response = browser.client.open(action, method=form.method, data=data)
    return expect(response, 302)


def password_code(person: Person, clock: FrozenClock) -> str:
    """A fresh one-time code for a person with password + code."""
    assert person.password is not None
    return totp_code(person.password.totp_key, clock)
