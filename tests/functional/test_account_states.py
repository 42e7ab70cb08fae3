"""The account-state fixtures are what they say (tests/support/accounts.py).

Each person is read back the way they would check it themselves: their data export
(GDPR Art 15), and whether their browser can start a passkey sign-in here and now. A
change to a flow that quietly made a fixture land in another state fails here, not as a
puzzling pass elsewhere.
"""

from __future__ import annotations

from typing import Any

import pytest

from authdemo.clock import FrozenClock
from tests.conftest import make_app
from tests.support.accounts import QUICK_HASHING, People, Person, State

#: What each person's export says: passkeys, password + code, recovery codes left, and the
#: last consent decision in the ledger (None: never asked).
EXPECTED: dict[State, tuple[int, bool, bool, str | None]] = {
    State.PASSKEY_ONLY: (1, False, False, "granted"),
    State.PASSWORD_ONLY: (0, True, True, None),
    State.BOTH: (1, True, True, "granted"),
    State.WITHDRAWN: (0, False, False, "withdrawn"),
    State.SWITCHED_OFF: (1, False, False, "granted"),
    State.NOT_OFFERED: (1, False, False, "granted"),
    State.NO_WAY_IN: (0, False, True, "withdrawn"),
}
#: States whose browser cannot start a passkey sign-in (passkeys off for this request).
PASSKEYS_OFF_HERE = {State.SWITCHED_OFF, State.NOT_OFFERED}


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    folder, clock = tmp_path_factory.mktemp("states"), FrozenClock()
    return People(lambda **more: make_app(folder, clock, **QUICK_HASHING, **more), clock)


def export(person: Person) -> dict[str, Any]:
    response = person.browser.client.get("/api/privacy/export")
    assert response.status_code == 200, response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()
    return data


@pytest.mark.parametrize("state", sorted(EXPECTED), ids=str)
def test_each_person_is_in_the_state_named(people: People, state: State) -> None:
    person = people.make(state)
    data = export(person)
    summary = data["summary"]
    passkeys, password, codes, consent = EXPECTED[state]
    assert summary["passkeys"] == passkeys
    assert summary["password_and_code"] is password
    assert (summary["recovery_codes_left"] > 0) is codes
    last = data["consent_events"][-1]["action"] if data["consent_events"] else None
    assert last == consent
    sign_in = person.browser.post_json("/api/passkeys/sign-in/options")
    assert (sign_in.status_code == 403) is (state in PASSKEYS_OFF_HERE)


def test_a_recovery_code_gives_a_restricted_session(people: People) -> None:
    person = people.make(State.RECOVERY)
    home = person.browser.client.get("/account")
    assert home.status_code == 302
    assert home.headers["Location"].endswith("/account/recover")
    assert person.browser.client.get("/account/recover").status_code == 200
