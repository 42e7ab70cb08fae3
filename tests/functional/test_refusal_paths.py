"""A failed password + code or recovery-code sign-in takes the same path whether the
username belongs to an account with a password, to a passkey-only account, or to nobody
(issue 15 item 4): the same SQL statements, the same commits, the same /metrics changes.

What an attacker can observe is the answer, its time and, where exposed, the metrics; the
time follows from the work done, so the work is compared here (``make bench`` reports the
medians side by side).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from authdemo.clock import FrozenClock
from authdemo.extensions import Database
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator

RAISED = "10000 per minute"
WRONG_PASSWORD = {"password": "not the password at all", "code": "000000"}
WRONG_RECOVERY_CODE = {"recovery_code": "AAAA-AAAA-AAAA-AAAA"}
#: The three kinds of username a guesser may try.
CASES = ("password-account", "passkey-only-account", "nobody")


@dataclass
class Work:
    statements: list[str] = field(default_factory=list)
    commits: int = 0
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(
        tmp_path,
        clock,
        RATELIMIT_PASSWORD_IP=RAISED,
        RATELIMIT_PASSWORD_ACCOUNT=RAISED,
    )


@pytest.fixture
def usernames(app: Flask, clock: FrozenClock) -> dict[str, str]:
    Browser(app.test_client()).sign_up_with_password(clock, "pat-password")
    passkey_only = Browser(app.test_client())
    assert passkey_only.sign_up_with_passkey(SoftwareAuthenticator(), "kay-passkey").status_code
    return {
        "password-account": "pat-password",
        "passkey-only-account": "kay-passkey",
        "nobody": "nobody-by-this-name",
    }


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the app's series on /metrics, except those that measure time
    (bucket and sum of a latency histogram: how long a request took is what ``make
    bench`` compares). The process collector's CPU and memory figures are left out too:
    they move with everything on the machine."""
    text = app.test_client().get("/metrics").get_data(as_text=True)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith("authdemo_") or sample.name.endswith(
                ("_bucket", "_sum", "_created")
            ):
                continue
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@contextmanager
def watching(app: Flask) -> Iterator[Work]:
    engine = Database.engine_for(app)
    work = Work()

    def statement(*args: Any) -> None:
        work.statements.append(" ".join(str(args[2]).split()))

    def commit(_connection: Any) -> None:
        work.commits += 1

    before = scrape(app)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield work
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    after = scrape(app)
    delta = Counter({key: after[key] - before.get(key, 0.0) for key in after})
    work.metrics = {key: value for key, value in delta.items() if value}


def refused(app: Flask, url: str, form: dict[str, str]) -> Work:
    browser = Browser(app.test_client())
    browser.csrf  # noqa: B018 - load the sign-in page first, as a person does
    with watching(app) as work:
        response = browser.post_form(url, form)
    assert response.status_code == 401
    return work


def each_case(usernames: dict[str, str], attempt: Callable[[str], Work]) -> dict[str, Work]:
    attempt(usernames["nobody"])  # warm up: statement caches, lazy imports
    return {case: attempt(usernames[case]) for case in CASES}


def assert_one_path(works: dict[str, Work]) -> None:
    reference = works["password-account"]
    assert reference.statements, "the listener saw no statement"
    for case, work in works.items():
        assert work.statements == reference.statements, case
        assert work.commits == reference.commits == 1, case
        assert work.metrics == reference.metrics, case


def test_a_wrong_password_takes_one_path_for_every_kind_of_username(
    app: Flask, usernames: dict[str, str]
) -> None:
    works = each_case(
        usernames,
        lambda name: refused(app, "/signin/password", {"username": name, **WRONG_PASSWORD}),
    )
    assert_one_path(works)


def test_a_wrong_recovery_code_takes_one_path_for_every_kind_of_username(
    app: Flask, usernames: dict[str, str]
) -> None:
    works = each_case(
        usernames,
        lambda name: refused(app, "/signin/recovery", {"username": name, **WRONG_RECOVERY_CODE}),
    )
    assert_one_path(works)


def test_every_refusal_is_audited_and_counted(app: Flask, usernames: dict[str, str]) -> None:
    work = refused(app, "/signin/password", {"username": usernames["nobody"], **WRONG_PASSWORD})
    assert any(s.startswith("INSERT INTO audit_events") for s in work.statements)
    failed = [
        value
        for (name, labels), value in work.metrics.items()
        if name == "authdemo_events_total" and ("event", "sign_in.failed") in labels
    ]
    assert failed == [1.0]
