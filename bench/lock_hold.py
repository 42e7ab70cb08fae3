"""How long a passkey sign-in holds the database's write lock (issue 18 item 2).

On SQLite the verify request's transaction takes the write lock at its first write
statement (pysqlite sends ``BEGIN`` just before it) and holds it until the commit has
returned, fsync included; every other writer waits that long. Measured here, in-process
with ``synchronous=FULL`` on the chosen disk, from the first INSERT/UPDATE/DELETE of the
request to the return of the session's commit, over serial sign-ins. Also checked: the
options request writes nothing and the verify commits once (docs/decisions/0019).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import sessionmaker

from bench.passkey_signin import BenchmarkError, signed_up_client
from bench.timing import Budget, Summary

BUDGET = Budget(iterations=300, seconds=8.0, warmup=20)
WRITES = ("INSERT", "UPDATE", "DELETE")
HEADERS = ("case", "sign-ins", "median ms", "p95 ms", "max ms", "writes/verify", "commits")


class _Recorder:
    """Engine and session events of one request: when the first write went out, how many
    writes and commits, and when the commit returned."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.first_write: float | None = None
        self.committed: float | None = None
        self.writes = 0
        self.commits = 0

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            self.writes += 1
            if self.first_write is None:
                self.first_write = time.perf_counter()

    def after_commit(self, session: Any) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released (decision 0012), not a commit
        self.commits += 1
        self.committed = time.perf_counter()


def run(db_dir: Path, *, scale: float = 1.0) -> dict[str, Any]:
    """Serial ES256 sign-ins on a SQLite file with synchronous=FULL."""
    budget = BUDGET.scaled(scale)
    recorder = _Recorder()
    holds: list[float] = []
    writes: list[int] = []
    with signed_up_client("ES256", synchronous="FULL", db_dir=db_dir) as client:
        factory: sessionmaker[Any] = client.app.extensions["authdemo.db"]
        engine = factory.kw["bind"]
        event.listen(engine, "before_cursor_execute", recorder.statement)
        event.listen(factory, "after_commit", recorder.after_commit)
        try:
            deadline = time.perf_counter() + budget.seconds
            done = 0
            while done < budget.warmup + budget.iterations and time.perf_counter() < deadline:
                options_writes, verify = _one_sign_in(client, recorder)
                if options_writes:
                    raise BenchmarkError(f"the options request wrote: {options_writes} writes")
                done += 1
                if done > budget.warmup:
                    holds.append(verify[0])
                    writes.append(verify[1])
        finally:
            event.remove(engine, "before_cursor_execute", recorder.statement)
            event.remove(factory, "after_commit", recorder.after_commit)
    if not holds:
        raise BenchmarkError("no sign-in finished within the budget")
    summary = Summary.of(holds)
    return {
        "what": "verify request: first write statement to the commit's return (SQLite, FULL)",
        "sign_ins": summary.count,
        "median_ms": round(summary.median_ms, 4),
        "p95_ms": round(summary.p95_ms, 4),
        "max_ms": round(max(holds) * 1e3, 4),
        "writes_per_verify": statistics.median(writes),
        "commits_per_verify": 1,
        "options_writes": 0,
    }


def _one_sign_in(client: Any, recorder: _Recorder) -> tuple[int, tuple[float, int]]:
    client.client.set_cookie(client.cookie_name, client.signed_out_cookie)
    recorder.reset()
    options = client.client.post(
        "/api/passkeys/sign-in/options", data=b"{}", headers=client.headers
    )
    if options.status_code != 200:
        raise BenchmarkError(f"options answered {options.status_code}")
    options_writes = recorder.writes + recorder.commits
    body = client.authenticator.get(options.get_json())
    recorder.reset()
    verified = client.client.post("/api/passkeys/sign-in/verify", json=body, headers=client.headers)
    if verified.status_code != 200:
        raise BenchmarkError(f"verify answered {verified.status_code}: {verified.get_data()!r}")
    if recorder.commits != 1 or recorder.first_write is None or recorder.committed is None:
        raise BenchmarkError(f"the verify committed {recorder.commits} times")
    return options_writes, (recorder.committed - recorder.first_write, recorder.writes)


def rows(result: dict[str, Any]) -> list[list[object]]:
    return [
        [
            "verify lock hold (SQLite FULL)",
            result["sign_ins"],
            result["median_ms"],
            result["p95_ms"],
            result["max_ms"],
            result["writes_per_verify"],
            result["commits_per_verify"],
        ]
    ]
