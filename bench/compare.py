"""Same-run comparisons over HTTP (issue 18 items 3 and 5): several targets (a source tree
served by one HTTP server on one database) started together and loaded in turn, rate by
rate, with the open-loop client of ``bench.http_load``.

Figures per target: capacity (the highest arrival rate with p95 < 50 ms and no errors),
server CPU per completed sign-in at ``REFERENCE_RATE`` (the workers, plus PostgreSQL's
backends for that server on PostgreSQL), and resident memory per worker after the load.
A target that misses the capacity rule at two rates in a row is not loaded further.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import http_load, servers

#: Finer than http_load.RATES where the ceilings are: steps of 50/s up to 500/s.
RATES = (50, 100, 200, 250, 300, 350, 400, 450, 500, 600)
#: CPU per sign-in is compared at one rate every target sustains.
REFERENCE_RATE = 100
#: Issue 18 item 5, as same-run ratios against the baseline.
TARGET_CAPACITY_RATIO = 1.8
TARGET_CPU_RATIO = 0.65
TARGET_RSS_MB = http_load.TARGET_RSS_MB


@dataclass(frozen=True, slots=True)
class Target:
    tree: servers.Tree
    server: str
    database: str = "sqlite"

    @property
    def name(self) -> str:
        return f"{self.tree.label}, {self.server}, {self.database}"


@dataclass
class TargetResult:
    target: Target
    rates: list[http_load.RateResult] = field(default_factory=list)
    rss_at_start_mb: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    misses_in_a_row: int = 0

    @property
    def capacity(self) -> int | None:
        passing = [r.rate for r in self.rates if r.meets_capacity]
        return max(passing) if passing else None

    def at(self, rate: int) -> http_load.RateResult | None:
        return next((r for r in self.rates if r.rate == rate), None)

    @property
    def server_cpu_ms(self) -> float | None:
        """Workers' CPU per sign-in at the reference rate."""
        found = self.at(REFERENCE_RATE)
        return found.server_cpu_ms_per_sign_in if found else None

    @property
    def database_cpu_ms(self) -> float | None:
        found = self.at(REFERENCE_RATE)
        return found.database_cpu_ms_per_sign_in if found else None

    @property
    def total_cpu_ms(self) -> float | None:
        if self.server_cpu_ms is None:
            return None
        return self.server_cpu_ms + (self.database_cpu_ms or 0.0)

    @property
    def worst_rss_mb(self) -> float | None:
        return max(self.rss_mb) if self.rss_mb else None

    def as_json(self) -> dict[str, Any]:
        return {
            "tree": self.target.tree.label,
            "server": self.target.server,
            "database": self.target.database,
            "capacity_per_second": self.capacity,
            "reference_rate_per_second": REFERENCE_RATE,
            "server_cpu_ms_per_sign_in": _round(self.server_cpu_ms),
            "database_cpu_ms_per_sign_in": _round(self.database_cpu_ms),
            "worker_rss_mb_after_load": [round(mb, 1) for mb in self.rss_mb],
            "worker_rss_mb_at_start": [round(mb, 1) for mb in self.rss_at_start_mb],
            "rates": [r.as_dict() for r in self.rates],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def compare(
    targets: list[Target], db_dir: Path, *, scale: float = 1.0, rates: tuple[int, ...] = RATES
) -> list[TargetResult]:
    """Start every target, sign up its people, then load them in turn, rate by rate."""
    results = [TargetResult(t) for t in targets]
    with ExitStack() as stack:
        running: list[tuple[TargetResult, http_load.Server, list[http_load.Person]]] = []
        for result in results:
            target = result.target
            server = stack.enter_context(
                http_load.serve(target.tree, target.server, db_dir, database=target.database)
            )
            result.rss_at_start_mb = _rss(server)
            people = [http_load.sign_up(server, f"bench{n}") for n in range(http_load.CONNECTIONS)]
            for person in people:
                stack.callback(person.client.close)
            for person in people:  # warm every worker's code paths and connections
                person.sign_in()
            running.append((result, server, people))
        seconds = http_load.RATE_SECONDS * max(scale, 0.4)
        for rate in rates:
            for result, server, people in running:
                if result.misses_in_a_row >= 2:
                    continue
                measured = http_load.open_loop(
                    people,
                    rate,
                    seconds,
                    http_load.DRAIN_SECONDS,
                    server.worker_pids(),
                    server.database_pids(),
                )
                result.rates.append(measured)
                result.misses_in_a_row = (
                    0 if measured.meets_capacity else result.misses_in_a_row + 1
                )
        for result, server, _ in running:
            result.rss_mb = _rss(server)
    return results


def _rss(server: http_load.Server) -> list[float]:
    return [mb for pid in server.worker_pids() if (mb := http_load.rss_mb(pid)) is not None]


# --- report -------------------------------------------------------------------------------

SUMMARY_HEADERS = (
    "target",
    "capacity /s",
    f"server cpu ms/sign-in @{REFERENCE_RATE}/s",
    "db cpu ms",
    "RSS MB/worker",
    "x baseline capacity",
    "x baseline cpu",
)


def summary_rows(results: list[TargetResult], baseline: TargetResult | None) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in results:
        capacity_ratio = cpu_ratio = None
        if baseline is not None and r is not baseline:
            if r.capacity and baseline.capacity:
                capacity_ratio = r.capacity / baseline.capacity
            if r.total_cpu_ms and baseline.total_cpu_ms:
                cpu_ratio = r.total_cpu_ms / baseline.total_cpu_ms
        rows.append(
            [
                r.target.name,
                r.capacity,
                r.server_cpu_ms,
                r.database_cpu_ms,
                r.worst_rss_mb,
                capacity_ratio,
                cpu_ratio,
            ]
        )
    return rows


def rate_rows(results: list[TargetResult]) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in results:
        for m in r.rates:
            rows.append(
                [
                    r.target.name,
                    f"{m.rate}/s",
                    m.ok,
                    m.errors + m.dropped,
                    m.achieved_per_second,
                    m.p50_ms,
                    m.p95_ms,
                    m.server_cpu_ms_per_sign_in,
                    m.database_cpu_ms_per_sign_in,
                ]
            )
    return rows


RATE_HEADERS = (
    "target",
    "arrival",
    "ok",
    "failed",
    "done/s",
    "p50 ms",
    "p95 ms",
    "server cpu ms",
    "db cpu ms",
)


def verdicts(new: TargetResult, baseline: TargetResult) -> dict[str, Any]:
    """Issue 18 item 5's targets as same-run ratios (None where a figure is missing)."""
    capacity = new.capacity / baseline.capacity if new.capacity and baseline.capacity else None
    cpu = (
        new.total_cpu_ms / baseline.total_cpu_ms
        if new.total_cpu_ms and baseline.total_cpu_ms
        else None
    )
    rss = new.worst_rss_mb
    return {
        "capacity_ratio": _round(capacity),
        "capacity_target_ratio": TARGET_CAPACITY_RATIO,
        "capacity_met": capacity is not None and capacity >= TARGET_CAPACITY_RATIO,
        "cpu_ratio": _round(cpu),
        "cpu_target_ratio": TARGET_CPU_RATIO,
        "cpu_met": cpu is not None and cpu <= TARGET_CPU_RATIO,
        "worker_rss_mb": _round(rss),
        "rss_target_mb": TARGET_RSS_MB,
        "rss_met": rss is not None and rss < TARGET_RSS_MB,
    }
