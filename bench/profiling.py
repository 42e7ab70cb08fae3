"""Where a full passkey sign-in spends its time (``python -m bench --profile``).

Three views, each cheap enough for a routine run:

1. **SQL per request**: every statement and commit the two requests send to SQLite.
2. **Layers**, measured without a profiler (so without its distortion), ES256 and
   ``synchronous=FULL``: an empty Flask app's two requests (the floor of the test client and
   Flask), the passkey services alone with the database (no HTTP, no Flask extensions), the
   whole app with the rate limiter off, and the whole app.
3. **cProfile** of the whole app, only while the two requests run, with each function's own
   time charged to a category (Flask, Flask-Limiter, SQLAlchemy, sqlite3, py_webauthn...),
   and each hook around the two requests on its own (the rate limit check, the CSRF check,
   opening and saving the signed cookie, Flask-Login, the security headers, the metrics),
   by its cumulative time: what removing or trimming it could save.
   Built-ins and standard-library functions are charged to whoever called them. cProfile
   slows Python code far more than C code, so shares of pure-Python layers are inflated;
   read them with the layer timings beside them. The limiter's background expiry thread is
   not profiled (cProfile follows the main thread only), but it does take the GIL.

The raw profile is saved as ``bench/full-sign-in.prof`` (``python -m pstats`` reads it).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import event

from authdemo import clock
from authdemo.extensions import Database, db
from authdemo.passkeys import service
from authdemo.passkeys import wiring as passkey_wiring
from authdemo.sessions import wiring as session_wiring
from bench.passkey_signin import (
    OPTIONS_URL,
    VERIFY_URL,
    SignInClient,
    SuiteResult,
    full,
    signed_up_client,
)
from bench.report import table
from bench.timing import Budget, Measurement, Stopwatch, run_bounded

ALGORITHM, SYNCHRONOUS = "ES256", "FULL"
LAYER_BUDGET = Budget(iterations=800, seconds=4.0, warmup=30)
PROFILE_BUDGET = Budget(iterations=400, seconds=8.0, warmup=30)
PROFILE_FILE = Path(__file__).resolve().parent / "full-sign-in.prof"
_PROJECT = str(Path(__file__).resolve().parent.parent) + "/"

# Function (file path fragment or built-in name fragment) -> category. First match wins.
# Anything unmatched (built-ins, the standard library) is charged to its callers.
_BUILTIN_CATEGORIES = (
    ("'commit' of 'sqlite3", "sqlite3 C: commit (WAL write, fsync)"),
    ("sqlite3", "sqlite3 C: execute, fetch"),
    ("_rust", "cryptography C/Rust: signature check"),
    ("openssl", "cryptography C/Rust: signature check"),
)
_PATH_CATEGORIES = (
    ("/werkzeug/test.py", "test client (the harness)"),
    ("/flask/testing.py", "test client (the harness)"),
    ("/bench/", "test client (the harness)"),
    ("/flask_limiter/", "Flask-Limiter + limits"),
    ("/limits/", "Flask-Limiter + limits"),
    ("/flask_wtf/", "CSRF check + signed cookie"),
    ("/wtforms/", "CSRF check + signed cookie"),
    ("/itsdangerous/", "CSRF check + signed cookie"),
    ("/flask/sessions.py", "CSRF check + signed cookie"),
    ("/flask_login/", "Flask-Login"),
    ("/flask/", "Flask + werkzeug"),
    ("/werkzeug/", "Flask + werkzeug"),
    ("/blinker/", "Flask + werkzeug"),
    ("/sqlalchemy/orm/", "SQLAlchemy ORM (session, ORM-enabled DML)"),
    ("/sqlalchemy/sql/", "SQLAlchemy SQL (build, cache key, compile)"),
    ("/sqlalchemy/engine/", "SQLAlchemy engine (execute, results)"),
    ("/sqlalchemy/pool/", "SQLAlchemy engine (execute, results)"),
    ("/sqlalchemy/dialects/", "SQLAlchemy engine (execute, results)"),
    ("/sqlalchemy/event/", "SQLAlchemy engine (execute, results)"),
    ("/webauthn/", "py_webauthn + cbor2 + cryptography (Python)"),
    ("/cbor2/", "py_webauthn + cbor2 + cryptography (Python)"),
    ("/cryptography/", "py_webauthn + cbor2 + cryptography (Python)"),
    ("/authdemo/", "authdemo (routes, services, parsing)"),
)
_UNATTRIBUTED = "standard library (unattributed)"

Func = tuple[str, int, str]

#: The hooks and per-request helpers of the sign-in path (issue 18 item 4): label ->
#: (file path fragment, function name), each measured by its cumulative time.
HOOKS: tuple[tuple[str, str, str], ...] = (
    (
        "rate limit checks (Flask-Limiter's hook, the views' decorators)",
        "/flask_limiter/_extension.py",
        "_check_request_limit",
    ),
    ("CSRF token and origin check", "/authdemo/csrf.py", "protect"),
    ("signed cookie: open (verify, parse)", "/flask/sessions.py", "open_session"),
    ("signed cookie: save (serialise, sign)", "/authdemo/csrf.py", "save_session"),
    ("Flask-Login: load the user", "/flask_login/login_manager.py", "_load_user"),
    ("Flask-Login: login_user", "/flask_login/utils.py", "login_user"),
    ("security headers", "/authdemo/security_headers.py", "_headers"),
    ("metrics: start timer", "/authdemo/operations/metrics.py", "_start"),
    ("metrics: count and observe", "/authdemo/operations/metrics.py", "_stop"),
    ("request id (logging)", "/authdemo/logging_setup.py", "_assign_request_id"),
    ("session keep-alive hook", "/authdemo/sessions/routes.py", "keep_session_alive"),
    ("passkey availability (switches, pilot)", "/authdemo/consent/web.py", "availability"),
    ("app and request context push", "/flask/ctx.py", "push"),
    ("teardown (close the database session)", "/flask/app.py", "do_teardown_appcontext"),
)


def run(suite: SuiteResult, db_dir: Path, *, scale: float = 1.0) -> dict[str, Any]:
    statements = sql_per_request(db_dir)
    print("\nSQL sent by one sign-in (ES256):")
    for url, (sql, commits) in statements.items():
        print(f"  {url}: {len(sql)} statements, {commits} commit(s)")
        for line in sql:
            print(f"    {line}")

    layers = layer_timings(suite, db_dir, LAYER_BUDGET.scaled(scale))
    bare_ms = suite.bare[ALGORITHM].total.median_ms
    print(f"\nLayers, {ALGORITHM}, synchronous={SYNCHRONOUS}, without the profiler, per sign-in:")
    print(
        table(
            ("layer", "median ms", "cpu ms", "x bare"),
            [
                [name, m.total.median_ms, m.cpu.median_ms, m.total.median_ms / bare_ms]
                for name, m in layers.items()
            ],
        )
    )

    stats, count = profile_full(db_dir, PROFILE_BUDGET.scaled(scale))
    stats.dump_stats(str(PROFILE_FILE))
    categories = by_category(stats)
    total = sum(seconds for _name, seconds in categories)
    print(f"\ncProfile of the whole app, {count} sign-ins (own time, callers charged):")
    print(
        table(
            ("category", "ms per sign-in", "share %"),
            [[name, seconds / count * 1e3, seconds / total * 100] for name, seconds in categories],
        )
    )
    hooks = hook_times(stats)
    print(f"\nHooks on the sign-in path, cumulative ms per sign-in under the profiler ({count}):")
    print(
        table(
            ("hook", "calls/sign-in", "cum ms"),
            [
                [name, calls / count, seconds / count * 1e3]
                for name, (calls, seconds) in hooks.items()
            ],
        )
    )
    top = top_functions(stats, 15)
    print(f"\nTop functions by own time (ms per sign-in, under the profiler); {PROFILE_FILE.name}:")
    print(table(("function", "calls/sign-in", "own ms", "cum ms"), _per_sign_in(top, count)))

    return {
        "algorithm": ALGORITHM,
        "synchronous": SYNCHRONOUS,
        "sql": {url: {"statements": sql, "commits": c} for url, (sql, c) in statements.items()},
        "layers": {
            name: {"median_ms": round(m.total.median_ms, 4), "cpu_ms": round(m.cpu.median_ms, 4)}
            for name, m in layers.items()
        },
        "profile_sign_ins": count,
        "profile_ms_per_sign_in": {name: round(s / count * 1e3, 4) for name, s in categories},
        "profile_hooks_cum_ms_per_sign_in": {
            name: round(seconds / count * 1e3, 4) for name, (_calls, seconds) in hooks.items()
        },
    }


# --- 1. SQL per request ----------------------------------------------------------------


def sql_per_request(db_dir: Path) -> dict[str, tuple[list[str], int]]:
    """The statements and commits of one sign-in, per request (first words of each)."""
    with signed_up_client(ALGORITHM, synchronous=SYNCHRONOUS, db_dir=db_dir) as client:
        engine = Database.engine_for(client.app)
        seen: dict[str, tuple[list[str], int]] = {}
        current_url = ""

        def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.setdefault(current_url, ([], 0))[0].append(" ".join(statement.split())[:100])

        def on_commit(_conn: Any) -> None:
            sql, commits = seen.setdefault(current_url, ([], 0))
            seen[current_url] = (sql, commits + 1)

        client.sign_in()  # warm: nothing first-time (e.g. PRAGMAs on connect) is counted
        with (
            _listening(engine, "before_cursor_execute", on_execute),
            _listening(engine, "commit", on_commit),
        ):
            client.client.set_cookie(client.cookie_name, client.signed_out_cookie)
            current_url = OPTIONS_URL
            options = client.client.post(OPTIONS_URL, data=b"{}", headers=client.headers)
            body = json.dumps(client.authenticator.get(options.get_json())).encode()
            current_url = VERIFY_URL
            client.client.post(VERIFY_URL, data=body, headers=client.headers)
        return seen


@contextmanager
def _listening(target: Any, name: str, fn: Callable[..., Any]) -> Iterator[None]:
    event.listen(target, name, fn)
    try:
        yield
    finally:
        event.remove(target, name, fn)


# --- 2. layers ---------------------------------------------------------------------------


def layer_timings(suite: SuiteResult, db_dir: Path, budget: Budget) -> dict[str, Measurement]:
    """Each layer, from the library call up to the whole app (wall and CPU per sign-in)."""
    layers = {"bare verify_authentication_response": suite.bare[ALGORITHM]}
    layers["2 requests to an empty Flask app"] = empty_flask_floor(budget)
    with signed_up_client(ALGORITHM, synchronous=SYNCHRONOUS, db_dir=db_dir) as client:
        layers["passkey services + database, no HTTP"] = services_only(client, budget)
    layers["whole app, no limiter, CSRF or hooks, no fsync"] = stack_floor(db_dir, budget)
    layers["whole app, rate limiter off"] = full(
        ALGORITHM, synchronous=SYNCHRONOUS, db_dir=db_dir, budget=budget, RATELIMIT_ENABLED=False
    )
    layers["whole app"] = suite.full[ALGORITHM, SYNCHRONOUS]
    return layers


def stack_floor(db_dir: Path, budget: Budget) -> Measurement:
    """The app with what can be switched off switched off: no rate limiter, no CSRF check,
    none of the per-request hooks (request id, timing, security headers), and commits that
    skip the fsync (``synchronous=NORMAL``). What remains is the stack itself: Flask and
    werkzeug, the signed cookie session, Flask-Login, SQLAlchemy, the consent hook and the
    services. Never a
    configuration to run: it shows how low the ratio could go by trimming our own layers.
    """
    with signed_up_client(
        ALGORITHM, synchronous="NORMAL", db_dir=db_dir, RATELIMIT_ENABLED=False
    ) as client:
        app = client.app
        app.config["WTF_CSRF_ENABLED"] = False
        app.after_request_funcs[None] = []
        # Keep the consent hook (behaviour); drop request id, timing, CSRF and limiter.
        app.before_request_funcs[None] = [
            f
            for f in app.before_request_funcs[None]
            if getattr(f, "__module__", "") == "authdemo.consent.routes"
        ]
        return run_bounded(client.sign_in, budget)


def empty_flask_floor(budget: Budget) -> Measurement:
    """Two JSON POSTs to a Flask app that does nothing: what any two requests cost."""
    app = Flask("floor")

    @app.post("/echo")
    def echo() -> Response:
        return jsonify(request.get_json())

    client = app.test_client()
    headers = {"Content-Type": "application/json"}

    def step() -> Stopwatch:
        watch = Stopwatch()
        for _ in range(2):
            with watch.part():
                client.post("/echo", data=b"{}", headers=headers)
        return watch

    return run_bounded(step, budget)


def services_only(client: SignInClient, budget: Budget) -> Measurement:
    """The passkey services and the database, one app context per request, no HTTP."""
    app = client.app

    def step() -> Stopwatch:
        watch = Stopwatch()
        with watch.part(), app.app_context():
            started = service.start_sign_in(
                db.session, rp=passkey_wiring.relying_party(), now=clock.now()
            )
            db.session.commit()
        body = json.dumps(client.authenticator.get(json.loads(started.options_json)))
        with watch.part(), app.app_context():
            service.finish_sign_in(
                db.session,
                rp=passkey_wiring.relying_party(),
                token=started.token,
                payload=json.loads(body),
                now=clock.now(),
                policy=session_wiring.session_policy(),
            )
            db.session.commit()
        return watch

    return run_bounded(step, budget)


# --- 3. cProfile ---------------------------------------------------------------------------


def profile_full(db_dir: Path, budget: Budget) -> tuple[pstats.Stats, int]:
    profiler = cProfile.Profile()
    with signed_up_client(ALGORITHM, synchronous=SYNCHRONOUS, db_dir=db_dir) as client:
        for _ in range(budget.warmup):
            client.sign_in()
        count = 0
        deadline = time.perf_counter() + budget.seconds
        while count < budget.iterations and time.perf_counter() < deadline:
            client.sign_in(profiler)
            count += 1
    return pstats.Stats(profiler), count


def categorize(func: Func) -> str | None:
    filename, _line, name = func
    if filename == "~":
        return next((c for fragment, c in _BUILTIN_CATEGORIES if fragment in name), None)
    path = filename.replace("\\", "/")
    return next((c for fragment, c in _PATH_CATEGORIES if fragment in path), None)


def by_category(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time per category, largest first; unmatched functions charged to their callers."""
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    shares: dict[Func, dict[str, float]] = {}

    def share_of(func: Func, depth: int = 0) -> dict[str, float]:
        known = categorize(func)
        if known is not None:
            return {known: 1.0}
        if func in shares:
            return shares[func]
        shares[func] = {_UNATTRIBUTED: 1.0}  # breaks cycles while this one is resolved
        callers: dict[Func, tuple[int, int, float, float]] = raw.get(func, (0, 0, 0, 0, {}))[4]
        weights = {caller: timing[2] for caller, timing in callers.items()}
        total = sum(weights.values())
        if depth > 30 or total <= 0:
            return shares[func]
        result: dict[str, float] = defaultdict(float)
        for caller, weight in weights.items():
            for category, fraction in share_of(caller, depth + 1).items():
                result[category] += fraction * weight / total
        shares[func] = dict(result)
        return shares[func]

    totals: dict[str, float] = defaultdict(float)
    for func, (_cc, _nc, own, _cum, _callers) in raw.items():
        for category, fraction in share_of(func).items():
            totals[category] += own * fraction
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)


def hook_times(stats: pstats.Stats) -> dict[str, tuple[int, float]]:
    """Each of ``HOOKS``: (calls, cumulative seconds), summed over the functions it names
    (``push`` is both the app and the request context's)."""
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    found: dict[str, tuple[int, float]] = {}
    for label, fragment, name in HOOKS:
        calls, seconds = 0, 0.0
        for (filename, _line, function), (_cc, nc, _own, cum, _callers) in raw.items():
            if function == name and fragment in filename.replace("\\", "/"):
                calls, seconds = calls + nc, seconds + cum
        found[label] = (calls, seconds)
    return found


def top_functions(stats: pstats.Stats, limit: int) -> list[tuple[Func, int, float, float]]:
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    rows = [(func, nc, own, cum) for func, (_cc, nc, own, cum, _callers) in raw.items()]
    return sorted(rows, key=lambda row: row[2], reverse=True)[:limit]


def _per_sign_in(rows: list[tuple[Func, int, float, float]], count: int) -> list[list[object]]:
    return [
        [_short(func), nc / count, own / count * 1e3, cum / count * 1e3]
        for func, nc, own, cum in rows
    ]


def _short(func: Func) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", _PROJECT, "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"
