"""The pilot cohort in the running app (issue 20 item 2; docs/rollout.md): outside the
pilot, passkey enrolment is not offered and is refused with the plain reason; inside it,
it is; narrowing the pilot disables nothing; and the cohort a sign-up is offered is the
account's afterwards, whichever way it signs up, on the account pages, on /metrics and in
``flask pilot report``.

Nothing here computes a cohort: a test tries sign-ups, as people arrive, until the
opt-in page offers a passkey (or says why not), and reads what the app says afterwards.
"""

from __future__ import annotations

import html
from pathlib import Path

from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.consent.rollout import NOT_IN_PILOT
from tests.conftest import Browser, make_app
from tests.functional.test_consent_support import (
    consent_body,
    page,
    sign_up_with_passkey,
)
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.scrape import sample, scrape

SIGN_UP_OPTIONS = "/api/passkeys/sign-up/options"
SIGN_UP_VERIFY = "/api/passkeys/sign-up/verify"
ADD_OPTIONS = "/api/passkeys/add/options"
PILOT_SIGN_INS = "authdemo_pilot_sign_ins_total"


def a_sign_up(app: Flask, *, offered: bool, prefix: str = "user") -> tuple[Browser, str]:
    """A browser whose sign-up (usernames <prefix>0, <prefix>1, ... each in a new
    browser, as new people arrive) the opt-in page does, or does not, offer a passkey."""
    for i in range(1000):
        browser, name = Browser(app.test_client()), f"{prefix}{i}"
        assert browser.choose_username(name).status_code == 302
        if ('id="passkey-consent"' in page(browser, "/signup/how")) is offered:
            return browser, name
    raise AssertionError("no such sign-up among 1000")


def report(app: Flask) -> list[str]:
    result = app.test_cli_runner().invoke(args=["pilot", "report"])
    assert result.exit_code == 0, result.output
    return str(result.output).splitlines()


def section(lines: list[str], heading: str) -> list[str]:
    """The indented lines under ``heading`` (a line of ``flask pilot report``)."""
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start:end]


def test_a_sign_up_outside_the_pilot_is_told_why_and_refused_a_passkey(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    browser, _name = a_sign_up(app, offered=False)
    text = html.unescape(page(browser, "/signup/how"))
    assert NOT_IN_PILOT in text
    assert 'id="passkey-consent"' not in text
    assert 'id="use-password"' in text
    refused = browser.post_json("/api/passkeys/sign-up/options", consent_body(app))
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == NOT_IN_PILOT


def test_a_sign_up_inside_the_pilot_is_offered_a_passkey(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    browser, name = a_sign_up(app, offered=True)
    assert 'id="passkey-consent"' in page(browser, "/signup/how")
    # Back to the first step, the same username again: the same sign-up, still offered.
    browser.client.get("/signup")
    assert sign_up_with_passkey(app, browser, authenticator, name).status_code == 200


def test_the_same_username_again_is_the_same_sign_up_and_keeps_its_offer(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Back to the first step with the same username (to correct the display name, say)
    is the same sign-up: the same account id, so the same offer, however often."""
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    browser, name = a_sign_up(app, offered=True)
    for attempt in range(10):
        assert browser.choose_username(name, f"Name {attempt}").status_code == 302
        assert 'id="passkey-consent"' in page(browser, "/signup/how")


def test_narrowing_the_pilot_disables_nothing(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    """At 0 % an account that already has a passkey keeps signing in with it and may add
    a second one (the advice against lock-out); one without a passkey is told why not."""
    everyone = make_app(tmp_path, clock)
    browser = Browser(everyone.test_client())
    sign_up_with_passkey(everyone, browser, authenticator)
    browser.sign_out()

    nobody = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="0")
    browser = Browser(nobody.test_client())
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    assert browser.post_json("/api/passkeys/add/options", consent_body(nobody)).status_code == 200

    other = Browser(nobody.test_client())
    other.sign_up_with_password(clock, "bob")
    assert NOT_IN_PILOT in html.unescape(page(other, "/account"))


def test_a_passkey_sign_up_in_the_pilot_signs_in_as_the_pilot_afterwards(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Three people offered a passkey at sign-up create their accounts with one; their
    sign-ins count as the pilot's on /metrics and in the report (not "outside")."""
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    devices = [SoftwareAuthenticator() for _ in range(3)]
    for number, device in enumerate(devices):
        browser, _name = a_sign_up(app, offered=True, prefix=f"pk{number}-")
        options = browser.post_json(SIGN_UP_OPTIONS, consent_body(app))
        assert options.status_code == 200, options.get_json()
        created = device.create(options.get_json())
        assert browser.post_json(SIGN_UP_VERIFY, created).status_code == 200

    before = scrape(app)
    for device in devices:
        assert Browser(app.test_client()).sign_in_with_passkey(device).status_code == 200
    after = scrape(app)

    def signed_in(cohort: str) -> float:
        return sample(after, PILOT_SIGN_INS, method="passkey", cohort=cohort) - sample(
            before, PILOT_SIGN_INS, method="passkey", cohort=cohort
        )

    assert (signed_in("pilot"), signed_in("outside")) == (3, 0)
    lines = report(app)
    # Each sign-up signed its person in, then each signed in again: 6, all the pilot's.
    assert section(lines, "Per cohort (per 1,000 successful sign-ins of the cohort)")[0] == (
        "  pilot: 6 successful sign-ins"
    )
    by_method = section(lines, "Sign-in success rate, by method and cohort")
    assert [line.split(":")[0] for line in by_method if line.startswith("    ")] == ["    pilot"]


def test_a_password_sign_up_in_the_pilot_is_offered_passkeys_on_its_account_pages(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Offered a passkey at sign-up, three people choose password + code instead; their
    account pages offer a passkey (and the add-passkey ceremony starts), and the report
    counts them in the pilot."""
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    for number in range(3):
        browser, name = a_sign_up(app, offered=True, prefix=f"pw{number}-")
        browser.sign_up_with_password(clock, name)  # the same username: the same sign-up
        assert NOT_IN_PILOT not in html.unescape(page(browser, "/account"))
        assert browser.post_json(ADD_OPTIONS, consent_body(app)).status_code == 200
    by_method = section(report(app), "Sign-in success rate, by method and cohort")
    assert "    pilot: 100.0 % of 3 (95 % CI 43.9 % to 100.0 %)" in by_method
    assert not [line for line in by_method if line.startswith("    outside")]


def test_a_sign_up_outside_the_pilot_stays_outside_afterwards(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """And the reverse: told at sign-up that passkeys come step by step, a person's
    account pages say the same, and the report counts them outside the pilot."""
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    for number in range(3):
        browser, name = a_sign_up(app, offered=False, prefix=f"out{number}-")
        browser.sign_up_with_password(clock, name)
        assert NOT_IN_PILOT in html.unescape(page(browser, "/account"))
        refused = browser.post_json(ADD_OPTIONS, consent_body(app))
        assert (refused.status_code, refused.get_json()["detail"]) == (403, NOT_IN_PILOT)
    by_method = section(report(app), "Sign-in success rate, by method and cohort")
    assert "    outside: 100.0 % of 3 (95 % CI 43.9 % to 100.0 %)" in by_method
    assert not [line for line in by_method if line.startswith("    pilot")]
