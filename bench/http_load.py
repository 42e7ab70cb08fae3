"""Passkey sign-in over real HTTP: the shipped server, keep-alive clients, open-loop load,
memory (issue 10 item 7 a, c and e).

The server is the one ``make serve`` starts (``deploy/serve.py``: granian, 2 workers, 2
threads each; decision 0020) on a
migrated SQLite *file* with ``SQLITE_SYNCHRONOUS=FULL`` and a throwaway directory on a real
disk; the clients are ``http.client`` keep-alive connections in this process, on the same
machine (loopback only), so client and server share the 2 cores.

Each sign-in is what a browser does: ``POST /api/passkeys/sign-in/options``, sign the fresh
challenge (``tests/support/authenticator.py``, at request time), ``POST .../verify``, with
the CSRF header and the session cookie of a signed-out sign-in page. Every connection has
its own person and device-bound passkey (the sign count grows, so every verify also
writes it), because one credential used concurrently would send sign counts out of order.

* **serial** (a): one connection, one sign-in at a time: median and p95 to compare with
  the in-process figure and with bare ``verify_authentication_response``.
* **open loop** (c): sign-ins *scheduled* at a fixed arrival rate whatever the responses;
  latency counts from the scheduled time, so a server that falls behind is charged for
  the queue it builds (no coordinated omission). Every rate is bounded in time; jobs that
  could not start before the drain deadline count as errors ("dropped").
* **memory** (e): ``VmRSS`` of each worker after the load.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import servers
from bench.passkey_signin import RAISED_LIMIT, BenchmarkError
from bench.timing import Summary, percentile
from tests.support.authenticator import ES256, SoftwareAuthenticator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
_CSRF = re.compile(r'"csrfToken": "([^"]+)"')
OPTIONS_URL = "/api/passkeys/sign-in/options"
VERIFY_URL = "/api/passkeys/sign-in/verify"

#: 25/s first, so that a busy machine still gets a capacity figure rather than none.
RATES = (25, 50, 100, 200, 300, 400)
RATE_SECONDS = 5.0
#: After the last scheduled arrival, at most this long to finish what is queued.
DRAIN_SECONDS = 5.0
#: Client connections (each a thread with its own person); enough for 400/s at 50 ms.
CONNECTIONS = 24
SERIAL_ITERATIONS = 400
SERIAL_SECONDS = 10.0
#: Capacity: the highest rate with p95 under this and no errors.
CAPACITY_P95_MS = 50.0
#: Issue 18 item 5's aim (its target is a ratio to the baseline: bench/compare.py).
TARGET_CAPACITY = 450
TARGET_RSS_MB = 80.0
REQUEST_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the server ---------------------------------------------------------------------------


@dataclass
class Server:
    host: str
    port: int
    origin: str
    process: subprocess.Popen[bytes]
    label: str = ""
    #: PostgreSQL's ``application_name`` of this server's connections (None: SQLite).
    database_application: str | None = None

    def worker_pids(self) -> list[int]:
        """The worker processes: the children of the server's main process (granian's
        main process also starts a resource tracker, which serves no request)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []
        return [pid for pid in pids if not _is_helper(pid)]

    def database_pids(self) -> list[int]:
        return database_pids(self.database_application)


def _is_helper(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"resource_tracker" in command


def memory_mb(pid: int) -> dict[str, float]:
    """RSS split into anonymous and file-backed pages, and PSS (shared pages divided among
    the processes sharing them), in MiB, from ``/proc/<pid>/status`` and ``smaps_rollup``."""
    found: dict[str, float] = {}
    wanted = {"VmRSS:": "rss", "RssAnon:": "rss_anon", "RssFile:": "rss_file"}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(" ", 1)[0].split("\t", 1)[0]
            if key in wanted:
                found[wanted[key]] = round(int(line.split()[1]) / 1024, 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                found["pss"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return found


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB, from ``/proc/<pid>/status``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


#: Where several benchmark workers keep their shared rate-limit counters (keys under a
#: fresh prefix per run, expiring by themselves); AUTHDEMO_BENCH_RATELIMIT_STORAGE_URI
#: overrides it.
BENCH_REDIS = "redis://127.0.0.1:6379/13"


@contextmanager
def shipped(db_dir: Path, *, workers: int = 2, threads: int = 2) -> Iterator[Server]:
    """This tree under the shipped server (``bench.servers.SHIPPED``) on a fresh SQLite file."""
    with serve(servers.this_tree(), servers.SHIPPED, db_dir, workers=workers, threads=threads) as s:
        yield s


#: The PostgreSQL server the sweep on PostgreSQL uses (a schema of its own, dropped after).
BENCH_PG_ADMIN = os.environ.get(
    "AUTHDEMO_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test"
)


@contextmanager
def _database(kind: str, tmp: Path) -> Iterator[tuple[str, str | None]]:
    """A fresh database: ``(url, application_name)``; the name finds its server processes."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}", None
        return
    import psycopg

    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(BENCH_PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    host = BENCH_PG_ADMIN.split("@", 1)[1]
    try:
        yield (
            f"postgresql+psycopg://postgres@{host}?options=-csearch_path%3D{schema}"
            f"&application_name={schema}",
            schema,
        )
    finally:
        with psycopg.connect(BENCH_PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (schema,),
            )
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def database_pids(application_name: str | None) -> list[int]:
    """The PostgreSQL backends serving one benchmark server (none for SQLite)."""
    if application_name is None:
        return []
    import psycopg

    with psycopg.connect(BENCH_PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return [int(row[0]) for row in rows]


@contextmanager
def serve(
    tree: servers.Tree,
    server_kind: str,
    db_dir: Path,
    *,
    database: str = "sqlite",
    workers: int = 2,
    threads: int = 2,
) -> Iterator[Server]:
    """``tree`` served by ``server_kind`` (``bench.servers.SERVERS``) on a fresh database
    (a SQLite file with synchronous=FULL, or a PostgreSQL schema); stopped afterwards."""
    db_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-http-", dir=db_dir) as tmp,
        _database(database, Path(tmp)) as (database_url, application_name),
    ):
        port = _free_port()
        origin = f"http://localhost:{port}"
        metrics = Path(tmp) / "metrics"
        metrics.mkdir()
        env = {
            **os.environ,
            **servers.environment_for(tree),
            "AUTHDEMO_ENV": "testing",
            "AUTHDEMO_DATABASE_URL": database_url,
            "AUTHDEMO_SQLITE_SYNCHRONOUS": "FULL",
            "AUTHDEMO_SECRET_KEY": secrets.token_urlsafe(48),
            "AUTHDEMO_DATA_KEY": secrets.token_urlsafe(32),
            "AUTHDEMO_ORIGIN": origin,
            "AUTHDEMO_RP_ID": "localhost",
            "AUTHDEMO_REDIS_URL": "",
            # As shipped: several workers share their rate-limit counters in Redis
            # (the server's configuration refuses per-process counters with more than one).
            "AUTHDEMO_RATELIMIT_STORAGE_URI": (
                os.environ.get("AUTHDEMO_BENCH_RATELIMIT_STORAGE_URI", BENCH_REDIS)
                if workers > 1
                else "memory-lazy://"
            ),
            "AUTHDEMO_RATELIMIT_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
            "AUTHDEMO_RATELIMIT_CEREMONY": RAISED_LIMIT,
            "AUTHDEMO_RATELIMIT_SIGNUP": RAISED_LIMIT,
            "AUTHDEMO_BIND": f"127.0.0.1:{port}",
            "AUTHDEMO_WORKERS": str(workers),
            "AUTHDEMO_THREADS": str(threads),
            "MALLOC_ARENA_MAX": "2",  # as make serve starts it
            "FLASK_APP": "authdemo",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        subprocess.run(  # noqa: S603 (the tree's own venv binaries, fixed arguments)
            [tree.bin / "flask", "db", "upgrade"],
            env=env,
            check=True,
            timeout=120,
            cwd=tree.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        command = servers.server_command(
            server_kind, tree, port=port, workers=workers, threads=threads
        )
        process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=tree.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = Server(
            "127.0.0.1",
            port,
            origin,
            process,
            label=f"{tree.label}, {server_kind}, {database}",
            database_application=application_name,
        )
        try:
            _wait_until_up(server, workers)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_until_up(server: Server, workers: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(f"{server.label}: the server exited during start-up")
        try:
            connection = http.client.HTTPConnection(server.host, server.port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200 and len(server.worker_pids()) >= workers:
                connection.close()
                return
            connection.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchmarkError(f"{server.label}: the server did not start")


# --- a browser-like client ----------------------------------------------------------------


@dataclass
class Client:
    """One keep-alive connection with its own cookies and CSRF token."""

    server: Server
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, str]:
        headers = {"X-CSRFToken": self.csrf} if self.csrf else {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.server.host, self.server.port, timeout=REQUEST_TIMEOUT
                )
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in header.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return response.status, text

    def post_json(self, path: str, body: bytes) -> tuple[int, str]:
        return self.request("POST", path, body, "application/json")

    def post_form(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        data = urlencode({"csrf_token": self.csrf, **form}).encode()
        return self.request("POST", path, data, "application/x-www-form-urlencoded")

    def load_csrf(self) -> None:
        status, page = self.request("GET", "/signin")
        match = _CSRF.search(page)
        if status != 200 or match is None:
            raise BenchmarkError(f"GET /signin answered {status} without a CSRF token")
        self.csrf = match.group(1)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


@dataclass
class Person:
    """A signed-up person's browser, reset to the signed-out sign-in page before each run."""

    client: Client
    authenticator: SoftwareAuthenticator
    signed_out_cookies: dict[str, str]

    def sign_in(self) -> tuple[float, float]:
        """One sign-in; returns the seconds of the options and the verify requests."""
        self.client.cookies = dict(self.signed_out_cookies)
        started = time.perf_counter()
        status, text = self.client.post_json(OPTIONS_URL, b"{}")
        options_done = time.perf_counter()
        if status != 200:
            raise BenchmarkError(f"{OPTIONS_URL} answered {status}: {text[:200]}")
        assertion = json.dumps(self.authenticator.get(json.loads(text))).encode()
        verify_started = time.perf_counter()
        status, text = self.client.post_json(VERIFY_URL, assertion)
        done = time.perf_counter()
        if status != 200:
            raise BenchmarkError(f"{VERIFY_URL} answered {status}: {text[:200]}")
        return options_done - started, done - verify_started


def sign_up(server: Server, username: str) -> Person:
    """Sign up over HTTP as the pages do (consent notice included), then sign out."""
    client = Client(server)
    client.load_csrf()
    status, _ = client.post_form("/signup", {"username": username})
    if status != 302:
        raise BenchmarkError(f"POST /signup answered {status}")
    _, page = client.request("GET", "/signup/how")
    version = re.search(r'name="notice_version" value="([^"]+)"', page)
    digest = re.search(r'name="notice_sha256" value="([0-9a-f]{64})"', page)
    if version is None or digest is None:
        raise BenchmarkError("no consent notice fields on /signup/how")
    consent = {
        "consent": True,
        "notice_version": version.group(1),
        "notice_sha256": digest.group(1),
    }
    status, text = client.post_json("/api/passkeys/sign-up/options", json.dumps(consent).encode())
    if status != 200:
        raise BenchmarkError(f"sign-up options answered {status}: {text[:200]}")
    authenticator = SoftwareAuthenticator(rp_id="localhost", origin=server.origin, algorithm=ES256)
    credential = authenticator.create(json.loads(text))
    status, text = client.post_json("/api/passkeys/sign-up/verify", json.dumps(credential).encode())
    if status != 200:
        raise BenchmarkError(f"sign-up verify answered {status}: {text[:200]}")
    _, page = client.request("GET", "/account")  # signing in gave a new CSRF token
    if match := _CSRF.search(page):
        client.csrf = match.group(1)
    status, _ = client.post_form("/signout", {})
    if status != 302:
        raise BenchmarkError(f"POST /signout answered {status}")
    client.load_csrf()
    return Person(client, authenticator, dict(client.cookies))


# --- (a) serial ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Serial:
    total: Summary
    options: Summary
    verify: Summary

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.total.as_dict(),
            "options_request": self.options.as_dict(),
            "verify_request": self.verify.as_dict(),
        }


def serial(person: Person, *, iterations: int, seconds: float, warmup: int = 20) -> Serial:
    deadline = time.perf_counter() + seconds
    for _ in range(warmup):
        person.sign_in()
        if time.perf_counter() >= deadline:
            break
    runs: list[tuple[float, float]] = []
    deadline = time.perf_counter() + seconds
    while len(runs) < iterations and time.perf_counter() < deadline:
        runs.append(person.sign_in())
    return Serial(
        total=Summary.of([a + b for a, b in runs]),
        options=Summary.of([a for a, _ in runs]),
        verify=Summary.of([b for _, b in runs]),
    )


# --- (c) open loop ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateResult:
    rate: int
    scheduled: int
    ok: int
    errors: int
    dropped: int
    achieved_per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    client_cpu_seconds: float
    wall_seconds: float
    first_error: str | None
    server_cpu_seconds: float | None = None
    #: PostgreSQL's backends serving this server (None on SQLite, which runs in-process).
    database_cpu_seconds: float | None = None

    @property
    def meets_capacity(self) -> bool:
        return (
            self.errors == 0
            and self.dropped == 0
            and self.p95_ms is not None
            and self.p95_ms < CAPACITY_P95_MS
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate_per_second": self.rate,
            "scheduled": self.scheduled,
            "ok": self.ok,
            "errors": self.errors,
            "dropped": self.dropped,
            "achieved_per_second": round(self.achieved_per_second, 1),
            "p50_ms": _round(self.p50_ms),
            "p95_ms": _round(self.p95_ms),
            "p99_ms": _round(self.p99_ms),
            "max_ms": _round(self.max_ms),
            "client_cpu_seconds": round(self.client_cpu_seconds, 2),
            "client_cpu_share_of_one_core": round(self.client_cpu_seconds / self.wall_seconds, 2),
            "server_cpu_seconds": _round(self.server_cpu_seconds),
            "server_cpu_ms_per_sign_in": _round(self.server_cpu_ms_per_sign_in),
            "database_cpu_seconds": _round(self.database_cpu_seconds),
            "database_cpu_ms_per_sign_in": _round(self.database_cpu_ms_per_sign_in),
            "first_error": self.first_error,
        }

    @property
    def server_cpu_ms_per_sign_in(self) -> float | None:
        if self.server_cpu_seconds is None or not self.ok:
            return None
        return self.server_cpu_seconds / self.ok * 1e3

    @property
    def database_cpu_ms_per_sign_in(self) -> float | None:
        if self.database_cpu_seconds is None or not self.ok:
            return None
        return self.database_cpu_seconds / self.ok * 1e3


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def open_loop(
    people: list[Person],
    rate: int,
    seconds: float,
    drain: float,
    pids: Sequence[int] = (),
    database_pids: Sequence[int] = (),
) -> RateResult:
    """Sign-ins scheduled every ``1/rate`` s for ``seconds``; a pool of people serves them."""
    count = max(1, int(rate * seconds))
    jobs: queue.SimpleQueue[float | None] = queue.SimpleQueue()
    latencies: list[float] = []
    errors: list[str] = []
    dropped = 0
    lock = threading.Lock()
    start = time.perf_counter() + 0.05
    drain_deadline = start + seconds + drain

    def work(person: Person) -> None:
        nonlocal dropped
        while (scheduled := jobs.get()) is not None:
            if time.perf_counter() > drain_deadline:
                with lock:
                    dropped += 1
                continue
            try:
                person.sign_in()
            except (BenchmarkError, OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                person.client.close()
                person.client.connection = None
                continue
            finished = time.perf_counter()
            with lock:
                latencies.append(finished - scheduled)

    cpu = time.process_time()
    server_cpu = _total_cpu(pids)
    database_cpu = {pid: cpu_seconds(pid) for pid in database_pids}
    threads = [threading.Thread(target=work, args=(p,), daemon=True) for p in people]
    for thread in threads:
        thread.start()
    for i in range(count):
        at = start + i / rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        jobs.put(at)
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=max(0.0, drain_deadline - time.perf_counter()) + REQUEST_TIMEOUT)
    wall = time.perf_counter() - start
    client_cpu = time.process_time() - cpu
    server_after = _total_cpu(pids)
    database_used = sum(
        (after - (database_cpu[pid] or 0.0))
        for pid in database_pids
        if (after := cpu_seconds(pid)) is not None
    )
    ordered = sorted(latencies)

    def pct(p: float) -> float | None:
        return percentile(ordered, p) * 1e3 if ordered else None

    return RateResult(
        rate=rate,
        scheduled=count,
        ok=len(ordered),
        errors=len(errors),
        dropped=dropped,
        achieved_per_second=len(ordered) / wall if wall else 0.0,
        p50_ms=pct(50),
        p95_ms=pct(95),
        p99_ms=pct(99),
        max_ms=ordered[-1] * 1e3 if ordered else None,
        client_cpu_seconds=client_cpu,
        wall_seconds=wall,
        first_error=errors[0] if errors else None,
        server_cpu_seconds=(
            server_after - server_cpu
            if server_after is not None and server_cpu is not None
            else None
        ),
        database_cpu_seconds=database_used if database_pids else None,
    )


def _total_cpu(pids: Sequence[int]) -> float | None:
    seconds = [cpu_seconds(pid) for pid in pids]
    return sum(s for s in seconds if s is not None) if pids else None


# --- the suite ----------------------------------------------------------------------------


@dataclass
class HttpResult:
    serial: Serial
    rates: list[RateResult]
    rss_mb: dict[int, float | None]
    rss_at_start_mb: dict[int, float | None]
    workers: int
    threads: int
    server_cpu_seconds: dict[int, float | None]

    @property
    def capacity(self) -> int | None:
        passing = [r.rate for r in self.rates if r.meets_capacity]
        return max(passing) if passing else None

    def rate_rows(self) -> list[list[object]]:
        return [
            [
                f"{r.rate}/s",
                r.scheduled,
                r.ok,
                r.errors,
                r.dropped,
                r.achieved_per_second,
                r.p50_ms,
                r.p95_ms,
                r.p99_ms,
                r.client_cpu_seconds / r.wall_seconds,
                r.server_cpu_ms_per_sign_in,
            ]
            for r in self.rates
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "description": (
                f"{servers.SHIPPED} (as shipped, {self.workers} workers x "
                f"{self.threads} threads) on a SQLite file, synchronous=FULL; http.client "
                "keep-alive clients in the benchmark process on the same machine; a person "
                "and device-bound passkey per connection (sign count written each time). "
                "Open-loop latency counts from the scheduled arrival time."
            ),
            "serial": self.serial.as_dict(),
            "open_loop": {
                "connections": CONNECTIONS,
                "capacity_rule": f"highest rate with p95 < {CAPACITY_P95_MS:g} ms, no errors",
                "capacity_per_second": self.capacity,
                "target_per_second": TARGET_CAPACITY,
                "rates": [r.as_dict() for r in self.rates],
            },
            "worker_rss_mb": {str(pid): _round(mb) for pid, mb in self.rss_mb.items()},
            "worker_cpu_seconds_total": {
                str(pid): _round(s) for pid, s in self.server_cpu_seconds.items()
            },
            "worker_rss_at_start_mb": {
                str(pid): _round(mb) for pid, mb in self.rss_at_start_mb.items()
            },
            "worker_memory_mb_after_load": {str(pid): memory_mb(pid) for pid in self.rss_mb},
            "target_rss_mb": TARGET_RSS_MB,
        }


RATE_HEADERS = (
    "arrival rate",
    "scheduled",
    "ok",
    "errors",
    "dropped",
    "done/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "client cpu",
    "server cpu ms/sign-in",
)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(server: Server, *, scale: float = 1.0, rates: tuple[int, ...] = RATES) -> HttpResult:
    rss_at_start = {pid: rss_mb(pid) for pid in server.worker_pids()}
    people = [sign_up(server, f"bench{n}") for n in range(CONNECTIONS)]
    try:
        result_serial = serial(
            people[0],
            iterations=max(1, int(SERIAL_ITERATIONS * scale)),
            seconds=SERIAL_SECONDS * scale,
        )
        results: list[RateResult] = []
        for rate in rates:
            seconds = RATE_SECONDS * max(scale, 0.4)
            pids = server.worker_pids()
            results.append(open_loop(people, rate, seconds, DRAIN_SECONDS, pids))
        pids = server.worker_pids()
        return HttpResult(
            serial=result_serial,
            rates=results,
            rss_mb={pid: rss_mb(pid) for pid in pids},
            rss_at_start_mb=rss_at_start,
            workers=len(pids),
            threads=int(os.environ.get("AUTHDEMO_THREADS", "2")),
            server_cpu_seconds={pid: cpu_seconds(pid) for pid in pids},
        )
    finally:
        for person in people:
            person.client.close()
