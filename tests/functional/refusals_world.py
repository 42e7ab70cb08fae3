"""The scene for the refusal catalogue (test_refusals_change_nothing.py): a world of
apps on one database and the people in it, the ``Refusal`` record and its registry, and
the steps people take before the request that must be refused.

The cases themselves are in ``refusals_signed_out.py`` and ``refusals_signed_in.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from tests.conftest import Browser
from tests.functional.passkey_support import (
    SIGN_UP_OPTIONS,
)
from tests.support.accounts import People, Person, State, expect
from tests.support.authenticator import SoftwareAuthenticator

REAUTH_OPTIONS = "/api/reauth/options"
REAUTH_VERIFY = "/api/reauth/verify"
PAST_A_CEREMONY = 301  # CEREMONY_TIMEOUT_SECONDS + 1
PAST_STEP_UP = 301  # STEP_UP_SECONDS + 1
PAST_AN_ENROLMENT = 901  # ENROLMENT_TIMEOUT_SECONDS + 1
NEXT_CODE = 30  # one RFC 6238 time step


# --- the world: one database, apps as an operator would run them, people made per case


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


def receipt_ids(person: Person) -> list[str]:
    """The ids of the person's consent receipts, as their privacy dashboard lists them."""
    page = person.browser.client.get("/privacy").get_data(as_text=True)
    return sorted(set(re.findall(r'action="/account/consent/receipts/([A-Za-z0-9_-]+)"', page)))


def notice_form(browser: Browser) -> dict[str, str]:
    shown = notice_of(browser)
    return {"notice_version": shown["notice_version"], "notice_sha256": shown["notice_sha256"]}


def signed_out(person: Person) -> Browser:
    browser = person.browser
    expect(browser.sign_out(), 302)
    return browser
