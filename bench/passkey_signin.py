"""Passkey sign-in: the whole app against py_webauthn's verification alone (issue 3, item 11).

Two ways to spend the same cryptography:

* **bare**: ``webauthn.verify_authentication_response`` on an assertion that is already in
  memory, exactly as the app calls it (a JSON-decoded dict, the stored COSE key, user
  verification required). Nothing else.
* **full**: what a browser's sign-in costs the server, in-process through the Flask test
  client: ``POST /api/passkeys/sign-in/options`` then ``POST /api/passkeys/sign-in/verify``,
  with the CSRF header and the signed cookie session, the rate limiter on (raised so it
  never refuses), on a migrated SQLite *file* database with the app's durable default
  (``SQLITE_SYNCHRONOUS=FULL``), and ``NORMAL`` for comparison.

The authenticator's work (signing the fresh challenge) and restoring the signed-out cookie
happen between the two timed requests, outside the timed region. Every sign-in starts from
the same signed-out browser state, like a person who has just opened the sign-in page.
"""

from __future__ import annotations

import cProfile
import json
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from webauthn import verify_authentication_response
from werkzeug.test import TestResponse

from authdemo import create_app
from authdemo.database import upgrade
from authdemo.extensions import Database
from bench.timing import Budget, Case, Measurement, Stopwatch, run_bounded, run_interleaved
from tests.conftest import ORIGIN, Browser
from tests.support.authenticator import EDDSA, ES256, SoftwareAuthenticator, b64url

RP_ID = "localhost"
ALGORITHMS = {"ES256": ES256, "EdDSA": EDDSA}
OPTIONS_URL = "/api/passkeys/sign-in/options"
VERIFY_URL = "/api/passkeys/sign-in/verify"
#: The benchmark must measure work, not refusals: the limiter stays on but never says no.
RAISED_LIMIT = "1000000 per minute"

BARE_BUDGET = Budget(iterations=4000, seconds=3.0, warmup=200)
FULL_BUDGET = Budget(iterations=1500, seconds=7.0, warmup=30)
#: The suite measures all cases in turns (see timing.run_interleaved) for this long.
SUITE_SECONDS = 40.0
#: Distinct assertions prepared for the bare case (cycled if the budget allows more calls).
BARE_POOL = 1000


class BenchmarkError(RuntimeError):
    """The app refused a sign-in the benchmark expected to succeed: figures would be wrong."""


# --- bare ----------------------------------------------------------------------------


def bare(algorithm: str, budget: Budget = BARE_BUDGET) -> Measurement:
    """``verify_authentication_response`` alone, on prepared assertions."""
    return run_bounded(bare_step(algorithm), budget)


def bare_step(algorithm: str) -> Callable[[], Stopwatch]:
    """One verification per call, each on the next of a pool of prepared assertions."""
    authenticator = SoftwareAuthenticator(
        rp_id=RP_ID, origin=ORIGIN, algorithm=ALGORITHMS[algorithm]
    )
    authenticator.create(_creation_options(ALGORITHMS[algorithm]))
    public_key = authenticator.credentials[-1].public_key
    # One challenge is enough here: nothing on this path remembers it was used.
    challenge = secrets.token_bytes(32)
    request_options = {"challenge": b64url(challenge), "rpId": RP_ID, "allowCredentials": []}
    pool = [authenticator.get(request_options) for _ in range(BARE_POOL)]
    calls = 0

    def step() -> Stopwatch:
        nonlocal calls
        credential = pool[calls % len(pool)]
        calls += 1
        watch = Stopwatch()
        with watch.part():
            verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=RP_ID,
                expected_origin=ORIGIN,
                credential_public_key=public_key,
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        return watch

    return step


def _creation_options(algorithm: int) -> dict[str, Any]:
    """Registration options as the app would send them, for a credential made offline."""
    return {
        "challenge": b64url(secrets.token_bytes(32)),
        "rp": {"id": RP_ID, "name": "bench"},
        "user": {"id": b64url(secrets.token_bytes(64)), "name": "bench", "displayName": "b"},
        "pubKeyCredParams": [{"type": "public-key", "alg": algorithm}],
    }


# --- full ----------------------------------------------------------------------------


@dataclass
class SignInClient:
    """A signed-up person's browser, reset to the signed-out sign-in page before each run."""

    app: Flask
    client: FlaskClient
    authenticator: SoftwareAuthenticator
    headers: dict[str, str]
    cookie_name: str
    signed_out_cookie: str

    def sign_in(self, profiler: cProfile.Profile | None = None) -> Stopwatch:
        """One sign-in, timing the options request and the verify request.

        With ``profiler``, profiling is on during the two requests only.
        """
        watch = Stopwatch()
        self.client.set_cookie(self.cookie_name, self.signed_out_cookie)
        options = self._post(OPTIONS_URL, b"{}", watch, profiler)
        body = json.dumps(self.authenticator.get(options.get_json())).encode()
        self._post(VERIFY_URL, body, watch, profiler)
        return watch

    def _post(
        self, url: str, body: bytes, watch: Stopwatch, profiler: cProfile.Profile | None
    ) -> TestResponse:
        if profiler is not None:
            profiler.enable()
        with watch.part():
            response = self.client.post(url, data=body, headers=self.headers)
        if profiler is not None:
            profiler.disable()
        _expect_ok(response, url)
        return response


def _expect_ok(response: TestResponse, url: str) -> None:
    if response.status_code != 200:
        raise BenchmarkError(f"{url} answered {response.status_code}: {response.get_data()!r}")


def bench_app(database: Path, *, synchronous: str, **config: Any) -> Flask:
    """The app on a freshly migrated SQLite file, whatever ``AUTHDEMO_*`` variables say.

    Built here rather than with the test suite's ``make_app``, which switches to
    PostgreSQL and Redis when ``AUTHDEMO_TEST_*`` variables are set.
    """
    settings = {
        "ENV": "testing",
        "DATABASE_URL": f"sqlite:///{database}",
        "SQLITE_SYNCHRONOUS": synchronous,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_KEY": secrets.token_urlsafe(32),
        "ORIGIN": ORIGIN,
        "RP_ID": RP_ID,
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "memory-lazy://",
        "RATELIMIT_CEREMONY": RAISED_LIMIT,
        "RATELIMIT_SIGNUP": RAISED_LIMIT,
        **config,
    }
    app = create_app(settings)
    upgrade(app)
    return app


@contextmanager
def signed_up_client(
    algorithm: str, *, synchronous: str, db_dir: Path, **config: Any
) -> Iterator[SignInClient]:
    """A fresh migrated database file with one person who signed up with a passkey."""
    db_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=db_dir) as tmp:
        app = bench_app(Path(tmp) / "bench.sqlite3", synchronous=synchronous, **config)
        try:
            browser = Browser(app.test_client())
            authenticator = SoftwareAuthenticator(
                rp_id=RP_ID, origin=ORIGIN, algorithm=ALGORITHMS[algorithm]
            )
            try:
                signed_up = browser.sign_up_with_passkey(authenticator, "bench")
            except AssertionError as exc:
                raise BenchmarkError(f"tests/conftest.py could not sign up: {exc}") from exc
            _expect_ok(signed_up, "sign-up")
            browser.sign_out()
            csrf = browser.csrf  # loads the sign-in page, signed out
            cookie_name = app.config["SESSION_COOKIE_NAME"]
            cookie = browser.client.get_cookie(cookie_name)
            if cookie is None:
                raise BenchmarkError("no session cookie after loading the sign-in page")
            yield SignInClient(
                app=app,
                client=browser.client,
                authenticator=authenticator,
                headers={"X-CSRFToken": csrf, "Content-Type": "application/json"},
                cookie_name=cookie_name,
                signed_out_cookie=cookie.value,
            )
        finally:
            Database.engine_for(app).dispose()


def full(
    algorithm: str,
    *,
    synchronous: str,
    db_dir: Path,
    budget: Budget = FULL_BUDGET,
    **config: Any,
) -> Measurement:
    """Options + verify through the app, on a SQLite file; ``config`` overrides settings.

    The measurement's two parts are the options request and the verify request.
    """
    with signed_up_client(algorithm, synchronous=synchronous, db_dir=db_dir, **config) as browser:
        return run_bounded(browser.sign_in, budget)


# --- the suite ---------------------------------------------------------------------------

#: Issue 18, item 5: the full sign-in costs at most this many bare verifications (it was
#: 33-35x before that issue's work).
TARGET_RATIO = 25.0
#: Issue 3, item 11 asked for 15x; kept as the stretch, with the web stack's floor in
#: docs/scaling.md explaining why it is out of reach for Flask on this path.
STRETCH_RATIO = 15.0
#: The headline case the targets apply to: the most common algorithm, durable commits.
HEADLINE = ("ES256", "FULL")
SYNCHRONOUS = ("FULL", "NORMAL")


@dataclass(frozen=True, slots=True)
class SuiteResult:
    bare: dict[str, Measurement]
    full: dict[tuple[str, str], Measurement]

    def ratio(self, algorithm: str, synchronous: str) -> float:
        """Median full sign-in over median bare verification (wall clock), same algorithm."""
        full = self.full[algorithm, synchronous].total
        return full.median_ms / self.bare[algorithm].total.median_ms

    def cpu_ratio(self, algorithm: str, synchronous: str) -> float:
        """The same with CPU time: what the ratio would be without any waiting."""
        full = self.full[algorithm, synchronous].cpu
        return full.median_ms / self.bare[algorithm].cpu.median_ms

    def rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for algorithm, m in self.bare.items():
            row = [f"bare  {algorithm}", m.total.count, m.total.per_second, m.total.median_ms]
            rows.append([*row, m.total.p95_ms, m.cpu.median_ms, None, None, 1.0, 1.0])
        for (algorithm, synchronous), m in self.full.items():
            options, verify = m.parts
            row = [f"full  {algorithm}  synchronous={synchronous}", m.total.count]
            row += [m.total.per_second, m.total.median_ms, m.total.p95_ms, m.cpu.median_ms]
            row += [options.median_ms, verify.median_ms]
            rows.append(
                [*row, self.ratio(algorithm, synchronous), self.cpu_ratio(algorithm, synchronous)]
            )
        return rows

    def verdict(self) -> str:
        ratio = self.ratio(*HEADLINE)
        if ratio <= STRETCH_RATIO:
            outcome = f"meets the stretch target (<= {STRETCH_RATIO:g}x)"
        elif ratio <= TARGET_RATIO:
            outcome = (
                f"meets the target (<= {TARGET_RATIO:g}x), not the stretch ({STRETCH_RATIO:g}x)"
            )
        else:
            outcome = f"MISSES the target (<= {TARGET_RATIO:g}x; stretch {STRETCH_RATIO:g}x)"
        return (
            f"{HEADLINE[0]} with synchronous={HEADLINE[1]}: full/bare = {ratio:.1f}x, {outcome}. "
            f"CPU only: {self.cpu_ratio(*HEADLINE):.1f}x."
        )

    def as_json(self) -> dict[str, Any]:
        cases: list[dict[str, Any]] = []
        for algorithm, m in self.bare.items():
            cases.append(
                {
                    "name": f"bare {algorithm}",
                    "kind": "bare",
                    "algorithm": algorithm,
                    **m.total.as_dict(),
                    "cpu_median_ms": round(m.cpu.median_ms, 4),
                }
            )
        for (algorithm, synchronous), m in self.full.items():
            options, verify = m.parts
            cases.append(
                {
                    "name": f"full {algorithm} synchronous={synchronous}",
                    "kind": "full",
                    "algorithm": algorithm,
                    "synchronous": synchronous,
                    **m.total.as_dict(),
                    "cpu_median_ms": round(m.cpu.median_ms, 4),
                    "options_request": options.as_dict(),
                    "verify_request": verify.as_dict(),
                    "ratio_to_bare_median": round(self.ratio(algorithm, synchronous), 2),
                    "cpu_ratio_to_bare_median": round(self.cpu_ratio(algorithm, synchronous), 2),
                }
            )
        return {
            "description": (
                "Serial, in-process (Flask test client). bare = webauthn."
                "verify_authentication_response on a prepared assertion; full = POST "
                f"{OPTIONS_URL} + POST {VERIFY_URL} with CSRF, cookie session, rate limiter "
                "(raised), on a migrated SQLite file database. cpu = this thread's CPU time "
                "in the timed region (no waiting for fsync or for other processes)."
            ),
            "targets": {
                "max_ratio": TARGET_RATIO,
                "stretch_ratio": STRETCH_RATIO,
                "headline": {"algorithm": HEADLINE[0], "synchronous": HEADLINE[1]},
            },
            "headline_ratio": round(self.ratio(*HEADLINE), 2),
            "headline_cpu_ratio": round(self.cpu_ratio(*HEADLINE), 2),
            "cases": cases,
        }


HEADERS = (
    "case",
    "runs",
    "sign-ins/s",
    "median ms",
    "p95 ms",
    "cpu ms",
    "options ms",
    "verify ms",
    "x bare",
    "x bare cpu",
)


def run_suite(db_dir: Path, *, scale: float = 1.0) -> SuiteResult:
    """Every case in one interleaved run, so that the ratios compare like with like."""
    with ExitStack() as stack:
        cases: dict[tuple[str, str | None], Case] = {}
        for algorithm in ALGORITHMS:
            cases[algorithm, None] = _case(bare_step(algorithm), BARE_BUDGET, scale, per_turn=20)
        for algorithm in ALGORITHMS:
            for synchronous in SYNCHRONOUS:
                client = stack.enter_context(
                    signed_up_client(algorithm, synchronous=synchronous, db_dir=db_dir)
                )
                cases[algorithm, synchronous] = _case(client.sign_in, FULL_BUDGET, scale, 3)
        measured = run_interleaved(cases, seconds=SUITE_SECONDS * scale)
    return SuiteResult(
        bare={a: m for (a, sync), m in measured.items() if sync is None},
        full={(a, sync): m for (a, sync), m in measured.items() if sync is not None},
    )


def _case(step: Callable[[], Stopwatch], budget: Budget, scale: float, per_turn: int) -> Case:
    scaled = budget.scaled(scale)
    return Case(step, per_turn=per_turn, iterations=scaled.iterations, warmup=scaled.warmup)
