"""Bounded measurement loops and their summaries.

Every loop here stops at whichever comes first, a number of iterations or a number of
seconds, so ``make bench`` finishes in bounded time on a slow or busy machine. Only the
region a benchmark marks as timed is measured; preparing inputs (signing an assertion,
restoring a cookie) happens outside it.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Budget:
    """At most ``iterations`` timed runs and at most ``seconds`` of wall-clock time."""

    iterations: int
    seconds: float
    warmup: int = 20

    def scaled(self, factor: float) -> Budget:
        return Budget(
            iterations=max(1, int(self.iterations * factor)),
            seconds=self.seconds * factor,
            warmup=max(1, int(self.warmup * factor)),
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """Latencies of one case. Throughput is serial: one client, one request at a time."""

    count: int
    total_seconds: float
    median_ms: float
    p95_ms: float
    min_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.total_seconds if self.total_seconds else math.nan

    @classmethod
    def of(cls, latencies: list[float]) -> Summary:
        if not latencies:
            raise ValueError("no measurements")
        ordered = sorted(latencies)
        return cls(
            count=len(ordered),
            total_seconds=sum(ordered),
            median_ms=statistics.median(ordered) * 1e3,
            p95_ms=percentile(ordered, 95) * 1e3,
            min_ms=ordered[0] * 1e3,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "timed_seconds": round(self.total_seconds, 4),
            "per_second": round(self.per_second, 1),
            "median_ms": round(self.median_ms, 4),
            "p95_ms": round(self.p95_ms, 4),
            "min_ms": round(self.min_ms, 4),
        }


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class Stopwatch:
    """The timed parts of one run: wall-clock seconds of each, and this thread's CPU seconds.

    Wall time is what a person waits for. CPU time leaves out waiting (for ``fsync``, for
    a CPU another process holds), so ``wall - cpu`` shows what the disk or a busy machine
    added, and CPU figures stay comparable when the machine is shared.
    """

    __slots__ = ("cpu", "parts")

    def __init__(self) -> None:
        self.parts: list[float] = []
        self.cpu = 0.0

    @contextmanager
    def part(self) -> Iterator[None]:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            yield
        finally:
            self.parts.append(time.perf_counter() - wall)
            self.cpu += time.thread_time() - cpu


@dataclass(frozen=True, slots=True)
class Measurement:
    """Whole runs (wall and CPU), and each timed part of a run (e.g. each request)."""

    total: Summary
    cpu: Summary
    parts: list[Summary]


def run_bounded(step: Callable[[], Stopwatch], budget: Budget) -> Measurement:
    """Call ``step`` within ``budget``; it returns the stopwatch of its timed parts.

    ``budget.warmup`` unrecorded calls come first (bounded by the same time budget) so
    caches, compiled SQL and lazily imported modules are in place before anything counts.
    """
    deadline = time.perf_counter() + budget.seconds
    for _ in range(budget.warmup):
        step()
        if time.perf_counter() >= deadline:
            break
    deadline = time.perf_counter() + budget.seconds
    runs: list[Stopwatch] = []
    while len(runs) < budget.iterations and time.perf_counter() < deadline:
        runs.append(step())
    return _measurement(runs)


@dataclass(frozen=True, slots=True)
class Case:
    """One measured case of an interleaved run: its step, how many calls per turn, at most
    how many recorded calls, and how many unrecorded warm-up calls."""

    step: Callable[[], Stopwatch]
    per_turn: int
    iterations: int
    warmup: int = 20


def run_interleaved(cases: Mapping[K, Case], *, seconds: float) -> dict[K, Measurement]:
    """Measure several cases in turns, so that each sees the same machine.

    On a shared machine the load changes from one second to the next; measuring the cases
    one after the other would let that drift into their ratios. Here every turn runs a few
    calls of each case (in a shuffled order), until every case has its ``iterations`` or
    ``seconds`` have passed (warm-up is bounded by the same number of seconds).
    """
    deadline = time.perf_counter() + seconds
    for case in cases.values():
        for _ in range(case.warmup):
            case.step()
            if time.perf_counter() >= deadline:
                break
    runs: dict[K, list[Stopwatch]] = {key: [] for key in cases}
    order = list(cases)
    shuffler = random.Random(0)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pending = [key for key in order if len(runs[key]) < cases[key].iterations]
        if not pending:
            break
        shuffler.shuffle(pending)
        for key in pending:
            case = cases[key]
            for _ in range(min(case.per_turn, case.iterations - len(runs[key]))):
                runs[key].append(case.step())
    return {key: _measurement(recorded) for key, recorded in runs.items()}


def _measurement(runs: list[Stopwatch]) -> Measurement:
    return Measurement(
        total=Summary.of([sum(run.parts) for run in runs]),
        cpu=Summary.of([run.cpu for run in runs]),
        parts=[Summary.of([run.parts[i] for run in runs]) for i in range(len(runs[0].parts))],
    )
