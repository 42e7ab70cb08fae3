"""Failed sign-ins side by side: an account with a password, a passkey-only account and
a username nobody has (issue 15 item 4).

Each case is ``POST /signin/password`` with a wrong password (and ``POST /signin/recovery``
with a wrong recovery code) through the whole app in-process, on a migrated SQLite file
with durable commits, the rate limits raised so they never refuse. The cases run in turns
(``timing.run_interleaved``) so they see the same machine. They take one path (the same
statements, commit and metrics, ``tests/functional/test_refusal_paths.py``), so their
medians should differ by no more than the noise of a shared machine.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from authdemo.clock import FrozenClock
from authdemo.extensions import Database
from bench.passkey_signin import RAISED_LIMIT, BenchmarkError, bench_app
from bench.timing import Case, Measurement, Stopwatch, run_interleaved
from tests.conftest import Browser
from tests.support.authenticator import SoftwareAuthenticator

SUITE_SECONDS = 20.0
ITERATIONS = 120
CASES = {
    "account with a password": "pat-password",
    "passkey-only account": "kay-passkey",
    "no such account": "nobody-by-this-name",
}
FORMS = {
    "password + code": ("/signin/password", {"password": "wrong password", "code": "000000"}),
    "recovery code": ("/signin/recovery", {"recovery_code": "AAAA-AAAA-AAAA-AAAA"}),
}
HEADERS = ("refused sign-in", *CASES, "spread ms")
_CSRF = re.compile(r'"csrfToken": "([^"]+)"')


def _refusal(
    browser: Browser, token: str, url: str, form: dict[str, str]
) -> Callable[[], Stopwatch]:
    def step() -> Stopwatch:
        watch = Stopwatch()
        with watch.part():
            response = browser.client.post(url, data={"csrf_token": token, **form})
        if response.status_code != 401:
            raise BenchmarkError(f"{url} answered {response.status_code}, not 401")
        return watch

    return step


def run(db_dir: Path, *, scale: float = 1.0) -> dict[str, dict[str, Measurement]]:
    db_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Measurement]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-refusals-", dir=db_dir) as tmp:
        app = bench_app(
            Path(tmp) / "bench.sqlite3",
            synchronous="FULL",
            RATELIMIT_PASSWORD_IP=RAISED_LIMIT,
            RATELIMIT_PASSWORD_ACCOUNT=RAISED_LIMIT,
        )
        clock = FrozenClock()
        app.extensions["authdemo.clock"] = clock
        try:
            Browser(app.test_client()).sign_up_with_password(
                clock, CASES["account with a password"]
            )
            Browser(app.test_client()).sign_up_with_passkey(
                SoftwareAuthenticator(
                    rp_id="localhost", origin=app.extensions["authdemo.settings"].ORIGIN
                ),
                CASES["passkey-only account"],
            )
            browser = Browser(app.test_client())
            match = _CSRF.search(browser.client.get("/signin").get_data(as_text=True))
            if match is None:
                raise BenchmarkError("no CSRF token on the sign-in page")
            for kind, (url, form) in FORMS.items():
                cases = {
                    case: Case(
                        _refusal(browser, match.group(1), url, {"username": name, **form}),
                        per_turn=1,
                        iterations=max(1, int(ITERATIONS * scale)),
                        warmup=max(1, int(5 * scale)),
                    )
                    for case, name in CASES.items()
                }
                results[kind] = run_interleaved(cases, seconds=SUITE_SECONDS * scale)
        finally:
            Database.engine_for(app).dispose()
    return results


def rows(results: dict[str, dict[str, Measurement]]) -> list[list[object]]:
    table: list[list[object]] = []
    for kind, measured in results.items():
        medians = [measured[case].total.median_ms for case in CASES]
        table.append([kind, *medians, max(medians) - min(medians)])
    return table


def as_json(results: dict[str, dict[str, Measurement]]) -> dict[str, Any]:
    return {
        "description": (
            "Refused sign-ins, serial, in-process, SQLite file, synchronous=FULL, interleaved: "
            "median ms per case (argon2id m=19 MiB t=2 for the password form)."
        ),
        **{
            kind: {case: m.total.as_dict() for case, m in measured.items()}
            for kind, measured in results.items()
        },
    }
