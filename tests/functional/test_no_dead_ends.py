"""Nobody is stranded: in every account state, every page reachable from the account home
has at least one working action (issue 14 item 4).

Each person is made through the app (tests/support/accounts.py), then the clock moves past
the step-up window (the withdrawal scenario of issue 14: "more than 5 minutes after their
sign-in"), and the crawler (tests/support/crawler.py) follows every link and GET form from
``/account``. A *working action* is a link or form that leads to a 2xx page that is itself
not a dead end, or completes an action (see ``crawler.judge``).

The states without a way in were stranded until the ways-in fix ("Confirm it's you" with
nothing to press, or a passkey button whose ceremony is refused): on d62a2a2 this test
fails for withdrawn, switched-off, not-offered and no-way-in.
"""

from __future__ import annotations

import pytest

from authdemo.clock import FrozenClock
from tests.conftest import make_app
from tests.support.accounts import QUICK_HASHING, People, State
from tests.support.crawler import crawl, dead_ends

#: STEP_UP_SECONDS + 1: the person signed in a while ago and has not confirmed since.
PAST_STEP_UP = 301

#: Pages that are read, not acted on: a published document is complete when read. (The
#: notice page has no link back in its ``<main>``: the layout issue's concern.)
DOCUMENTS = {
    "consent.notice": "the passkey notice, every published version",
    "compliance.manifest_page": "the privacy manifest generated from the running config",
}


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    """One database for every state: each test makes its own person and moves the clock,
    which leaves the others' (earlier) people alone."""
    folder, clock = tmp_path_factory.mktemp("states"), FrozenClock()
    return People(lambda **more: make_app(folder, clock, **QUICK_HASHING, **more), clock)


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_page_reachable_from_the_account_home_has_a_working_action(
    people: People, state: State
) -> None:
    person = people.make(state)
    people.clock.advance(seconds=PAST_STEP_UP)
    walk = crawl(person.browser)
    assert len(walk.pages) > 3, f"the walk found too little: {sorted(walk.pages)}"
    assert dead_ends(person.app, person.browser, walk, DOCUMENTS) == []
