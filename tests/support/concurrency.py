"""Requests at the same instant: a double click, or an attacker racing a captured request.
Each call runs in its own thread, and all are released together by a ``threading.Barrier``,
so whatever the interleaving, the test sees what the app does when they really overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same instant; return their results."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
