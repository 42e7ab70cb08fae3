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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from webauthn import verify_authentication_response
from werkzeug.test import TestResponse

from authdemo.extensions import Database
from bench.timing import Budget, Summary, run_bounded
from tests.conftest import ORIGIN, Browser, make_app
from tests.support.authenticator import EDDSA, ES256, SoftwareAuthenticator, b64url

RP_ID = "localhost"
ALGORITHMS = {"ES256": ES256, "EdDSA": EDDSA}
OPTIONS_URL = "/api/passkeys/sign-in/options"
VERIFY_URL = "/api/passkeys/sign-in/verify"
#: The benchmark must measure work, not refusals: the limiter stays on but never says no.
RAISED_LIMIT = "1000000 per minute"

BARE_BUDGET = Budget(iterations=4000, seconds=3.0, warmup=200)
FULL_BUDGET = Budget(iterations=1500, seconds=7.0, warmup=30)
#: Distinct assertions prepared for the bare case (cycled if the budget allows more calls).
BARE_POOL = 1000


class BenchmarkError(RuntimeError):
    """The app refused a sign-in the benchmark expected to succeed: figures would be wrong."""


# --- bare ----------------------------------------------------------------------------


def bare(algorithm: str, budget: Budget = BARE_BUDGET) -> Summary:
    """``verify_authentication_response`` alone, on prepared assertions."""
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

    def step() -> tuple[float, ...]:
        nonlocal calls
        credential = pool[calls % len(pool)]
        calls += 1
        start = time.perf_counter()
        verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
        return (time.perf_counter() - start,)

    return run_bounded(step, budget).total


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

    def sign_in(self, profiler: cProfile.Profile | None = None) -> tuple[float, float]:
        """One sign-in; returns the seconds spent in the options and the verify request.

        With ``profiler``, profiling is on during the two requests only.
        """
        self.client.set_cookie(self.cookie_name, self.signed_out_cookie)
        options, options_seconds = self._post(OPTIONS_URL, b"{}", profiler)
        body = json.dumps(self.authenticator.get(options.get_json())).encode()
        _, verify_seconds = self._post(VERIFY_URL, body, profiler)
        return options_seconds, verify_seconds

    def _post(
        self, url: str, body: bytes, profiler: cProfile.Profile | None
    ) -> tuple[TestResponse, float]:
        if profiler is not None:
            profiler.enable()
        start = time.perf_counter()
        response = self.client.post(url, data=body, headers=self.headers)
        seconds = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
        _expect_ok(response, url)
        return response, seconds


def _expect_ok(response: TestResponse, url: str) -> None:
    if response.status_code != 200:
        raise BenchmarkError(f"{url} answered {response.status_code}: {response.get_data()!r}")


@contextmanager
def signed_up_client(
    algorithm: str, *, synchronous: str, db_dir: Path, **config: Any
) -> Iterator[SignInClient]:
    """A fresh migrated database file with one person who signed up with a passkey."""
    db_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=db_dir) as tmp:
        app = make_app(
            Path(tmp),
            SQLITE_SYNCHRONOUS=synchronous,
            RATELIMIT_CEREMONY=RAISED_LIMIT,
            RATELIMIT_SIGNUP=RAISED_LIMIT,
            **config,
        )
        try:
            browser = Browser(app.test_client())
            authenticator = SoftwareAuthenticator(
                rp_id=RP_ID, origin=ORIGIN, algorithm=ALGORITHMS[algorithm]
            )
            _expect_ok(browser.sign_up_with_passkey(authenticator, "bench"), "sign-up")
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


@dataclass(frozen=True, slots=True)
class FullResult:
    sign_in: Summary
    options: Summary
    verify: Summary


def full(
    algorithm: str,
    *,
    synchronous: str,
    db_dir: Path,
    budget: Budget = FULL_BUDGET,
    **config: Any,
) -> FullResult:
    """Options + verify through the app, on a SQLite file; ``config`` overrides settings."""
    with signed_up_client(algorithm, synchronous=synchronous, db_dir=db_dir, **config) as browser:
        measured = run_bounded(browser.sign_in, budget)
    options, verify = measured.parts
    return FullResult(sign_in=measured.total, options=options, verify=verify)


# --- the suite ---------------------------------------------------------------------------

#: Issue 3, item 11: the full sign-in costs at most this many bare verifications.
TARGET_RATIO = 15.0
STRETCH_RATIO = 10.0
#: The headline case the targets apply to: the most common algorithm, durable commits.
HEADLINE = ("ES256", "FULL")
SYNCHRONOUS = ("FULL", "NORMAL")


@dataclass(frozen=True, slots=True)
class SuiteResult:
    bare: dict[str, Summary]
    full: dict[tuple[str, str], FullResult]

    def ratio(self, algorithm: str, synchronous: str) -> float:
        """Median full sign-in over median bare verification, same algorithm."""
        return self.full[algorithm, synchronous].sign_in.median_ms / self.bare[algorithm].median_ms

    def rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for algorithm, summary in self.bare.items():
            rows.append(
                [
                    f"bare  {algorithm}",
                    summary.count,
                    summary.per_second,
                    summary.median_ms,
                    summary.p95_ms,
                    None,
                    None,
                    1.0,
                ]
            )
        for (algorithm, synchronous), result in self.full.items():
            s = result.sign_in
            rows.append(
                [
                    f"full  {algorithm}  synchronous={synchronous}",
                    s.count,
                    s.per_second,
                    s.median_ms,
                    s.p95_ms,
                    result.options.median_ms,
                    result.verify.median_ms,
                    self.ratio(algorithm, synchronous),
                ]
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
        return f"{HEADLINE[0]} with synchronous={HEADLINE[1]}: full/bare = {ratio:.1f}x, {outcome}"

    def as_json(self) -> dict[str, Any]:
        return {
            "description": (
                "Serial, in-process (Flask test client). bare = webauthn."
                "verify_authentication_response on a prepared assertion; full = POST "
                f"{OPTIONS_URL} + POST {VERIFY_URL} with CSRF, cookie session, rate limiter "
                "(raised), on a migrated SQLite file database."
            ),
            "targets": {
                "max_ratio": TARGET_RATIO,
                "stretch_ratio": STRETCH_RATIO,
                "headline": {"algorithm": HEADLINE[0], "synchronous": HEADLINE[1]},
            },
            "headline_ratio": round(self.ratio(*HEADLINE), 2),
            "cases": [
                *(
                    {"name": f"bare {a}", "kind": "bare", "algorithm": a, **s.as_dict()}
                    for a, s in self.bare.items()
                ),
                *(
                    {
                        "name": f"full {a} synchronous={sync}",
                        "kind": "full",
                        "algorithm": a,
                        "synchronous": sync,
                        **r.sign_in.as_dict(),
                        "options_request": r.options.as_dict(),
                        "verify_request": r.verify.as_dict(),
                        "ratio_to_bare_median": round(self.ratio(a, sync), 2),
                    }
                    for (a, sync), r in self.full.items()
                ),
            ],
        }


HEADERS = ("case", "runs", "sign-ins/s", "median ms", "p95 ms", "options ms", "verify ms", "x bare")


def run_suite(db_dir: Path, *, scale: float = 1.0) -> SuiteResult:
    bare_results = {a: bare(a, BARE_BUDGET.scaled(scale)) for a in ALGORITHMS}
    full_results = {
        (a, sync): full(a, synchronous=sync, db_dir=db_dir, budget=FULL_BUDGET.scaled(scale))
        for a in ALGORITHMS
        for sync in SYNCHRONOUS
    }
    return SuiteResult(bare=bare_results, full=full_results)
