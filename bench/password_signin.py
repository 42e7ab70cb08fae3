"""Passkey against password + one-time code sign-in, in the same run (issue 5 item 11,
issue 10 item 7b).

Both go through the whole app in-process (Flask test client, CSRF, cookie session, the
rate limiter raised so it never refuses) on a migrated SQLite file with durable commits:

* **passkey**: ``POST /api/passkeys/sign-in/options`` + ``POST /api/passkeys/sign-in/verify``
  (the same client as ``bench.passkey_signin``);
* **password + code**: ``POST /signin/password`` with the username, the password and a
  fresh valid TOTP code. The app's clock is a ``FrozenClock`` moved on 30 s before each
  sign-in, because each time step is accepted at most once per account.

The two cases run in turns (``timing.run_interleaved``) so they see the same machine. The
target is a throughput ratio of at least 20: argon2id at m = 19 MiB, t = 2 is meant to be
expensive, and it dominates password sign-in.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.extensions import Database
from bench.passkey_signin import RAISED_LIMIT, BenchmarkError, bench_app, signed_up_client
from bench.timing import Case, Measurement, Stopwatch, run_interleaved
from tests.conftest import Browser, PasswordAccount

TARGET_RATIO = 20.0
SUITE_SECONDS = 15.0
PASSWORD_ITERATIONS = 300
PASSKEY_ITERATIONS = 1500
_CSRF = re.compile(r'"csrfToken": "([^"]+)"')


@dataclass
class PasswordClient:
    """A person with a password + authenticator app, signed out before each sign-in."""

    app: Flask
    browser: Browser
    clock: FrozenClock
    account: PasswordAccount
    cookie_name: str
    signed_out_cookie: str
    form: dict[str, str]

    def sign_in(self) -> Stopwatch:
        self.clock.advance(seconds=30)
        code = pyotp.TOTP(self.account.totp_key).at(self.clock.now())
        self.browser.client.set_cookie(self.cookie_name, self.signed_out_cookie)
        watch = Stopwatch()
        with watch.part():
            response = self.browser.client.post(
                "/signin/password", data={**self.form, "code": code}
            )
        if response.status_code != 302:
            raise BenchmarkError(
                f"/signin/password answered {response.status_code}: {response.get_data()!r}"
            )
        return watch


@contextmanager
def password_client(db_dir: Path) -> Iterator[PasswordClient]:
    db_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=db_dir) as tmp:
        clock = FrozenClock()
        app = bench_app(
            Path(tmp) / "bench.sqlite3",
            synchronous="FULL",
            RATELIMIT_PASSWORD_IP=RAISED_LIMIT,
            RATELIMIT_PASSWORD_ACCOUNT=RAISED_LIMIT,
        )
        app.extensions["authdemo.clock"] = clock
        try:
            browser = Browser(app.test_client())
            try:
                account = browser.sign_up_with_password(clock, "benchpw")
            except AssertionError as exc:
                raise BenchmarkError(f"tests/conftest.py could not sign up: {exc}") from exc
            browser.sign_out()
            page = browser.client.get("/signin").get_data(as_text=True)
            match = _CSRF.search(page)
            if match is None:
                raise BenchmarkError("no CSRF token on the sign-in page")
            cookie_name = app.config["SESSION_COOKIE_NAME"]
            cookie = browser.client.get_cookie(cookie_name)
            if cookie is None:
                raise BenchmarkError("no session cookie after loading the sign-in page")
            form = {
                "csrf_token": match.group(1),
                "username": account.username,
                "password": account.password,
            }
            yield PasswordClient(app, browser, clock, account, cookie_name, cookie.value, form)
        finally:
            Database.engine_for(app).dispose()


@dataclass(frozen=True, slots=True)
class Comparison:
    passkey: Measurement
    password: Measurement

    @property
    def ratio(self) -> float:
        """Throughput ratio, wall clock: how many passkey sign-ins per password sign-in."""
        return self.password.total.median_ms / self.passkey.total.median_ms

    @property
    def cpu_ratio(self) -> float:
        return self.password.cpu.median_ms / self.passkey.cpu.median_ms

    def rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for name, m in (("passkey", self.passkey), ("password + code", self.password)):
            rows.append(
                [
                    name,
                    m.total.count,
                    1e3 / m.total.median_ms,
                    m.total.median_ms,
                    m.total.p95_ms,
                    m.cpu.median_ms,
                    1e3 / m.cpu.median_ms,
                ]
            )
        return rows

    def verdict(self) -> str:
        met = "meets" if self.ratio >= TARGET_RATIO else "MISSES"
        return (
            f"passkey sign-in is {self.ratio:.1f}x cheaper than password + code (wall clock; "
            f"CPU {self.cpu_ratio:.1f}x): {met} the target (>= {TARGET_RATIO:g}x)."
        )

    def as_json(self) -> dict[str, Any]:
        def case(m: Measurement) -> dict[str, Any]:
            return {
                **m.total.as_dict(),
                "sign_ins_per_second_median": round(1e3 / m.total.median_ms, 1),
                "cpu_median_ms": round(m.cpu.median_ms, 4),
                "sign_ins_per_cpu_second": round(1e3 / m.cpu.median_ms, 1),
            }

        return {
            "description": (
                "Serial, in-process (Flask test client), SQLite file, synchronous=FULL, "
                "interleaved. passkey = options + verify; password = POST /signin/password "
                "with username, password (argon2id m=19 MiB t=2) and a fresh TOTP code."
            ),
            "target_min_ratio": TARGET_RATIO,
            "ratio_median": round(self.ratio, 2),
            "cpu_ratio_median": round(self.cpu_ratio, 2),
            "passkey": case(self.passkey),
            "password_and_code": case(self.password),
        }


HEADERS = ("case", "runs", "sign-ins/s", "median ms", "p95 ms", "cpu ms", "per cpu-s")


def run(db_dir: Path, *, scale: float = 1.0) -> Comparison:
    with ExitStack() as stack:
        passkey = stack.enter_context(signed_up_client("ES256", synchronous="FULL", db_dir=db_dir))
        password = stack.enter_context(password_client(db_dir))
        cases = {
            "passkey": Case(
                passkey.sign_in,
                per_turn=10,
                iterations=max(1, int(PASSKEY_ITERATIONS * scale)),
                warmup=max(1, int(20 * scale)),
            ),
            "password": Case(
                password.sign_in,
                per_turn=1,
                iterations=max(1, int(PASSWORD_ITERATIONS * scale)),
                warmup=max(1, int(5 * scale)),
            ),
        }
        measured = run_interleaved(cases, seconds=SUITE_SECONDS * scale)
    return Comparison(passkey=measured["passkey"], password=measured["password"])
