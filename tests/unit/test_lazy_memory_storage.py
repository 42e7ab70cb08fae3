"""The in-process rate-limit storage counts like limits' own, without timer threads."""

from __future__ import annotations

import threading
import time

from limits import RateLimitItemPerMinute
from limits.strategies import MovingWindowRateLimiter

from authdemo.extensions import LazyMemoryStorage


def test_counting_starts_no_timer_thread() -> None:
    storage = LazyMemoryStorage("memory-lazy://")
    before = threading.active_count()
    for i in range(50):
        storage.incr(f"key-{i}", 60)
    assert threading.active_count() == before


def test_limits_apply_and_expired_counts_are_forgotten() -> None:
    storage = LazyMemoryStorage("memory-lazy://")
    limiter = MovingWindowRateLimiter(storage)
    limit = RateLimitItemPerMinute(2)
    assert limiter.hit(limit, "acct")
    assert limiter.hit(limit, "acct")
    assert not limiter.hit(limit, "acct")
    storage.incr("short", 0.01)
    time.sleep(0.02)
    assert storage.get("short") == 0
