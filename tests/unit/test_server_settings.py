"""deploy/serve.py, the shipped server's settings (decision 0020), read the way the
systemd unit and `make serve` start it: from AUTHDEMO_* variables."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from authdemo.ratelimit import StorageNotShared

SERVE = Path(__file__).resolve().parents[2] / "deploy" / "serve.py"
REDIS = {"AUTHDEMO_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3"}


def _serve() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shipped_serve", SERVE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_workers_of_two_threads_on_loopback_without_an_access_log_by_default() -> None:
    server = _serve().server(REDIS)
    assert (server.bind_addr, server.bind_port) == ("127.0.0.1", 8000)
    assert (server.workers, server.blocking_threads) == (2, 2)
    # An access log would record addresses and user agents (compliance/retention.md).
    assert server.log_access is False
    assert server.interface.value == "wsgi"
    assert server.websockets is False
    assert server.workers_kill_timeout == 10
    assert server.respawn_failed_workers is True


def test_the_operators_bind_workers_and_threads_are_used() -> None:
    server = _serve().server(
        {**REDIS, "AUTHDEMO_BIND": "[::1]:9001", "AUTHDEMO_WORKERS": "4", "AUTHDEMO_THREADS": "3"}
    )
    assert (server.bind_addr, server.bind_port) == ("::1", 9001)
    assert (server.workers, server.blocking_threads) == (4, 3)


@pytest.mark.parametrize("store", ["memory://", "memory-lazy://"])
def test_several_workers_with_per_process_counters_are_refused(store: str) -> None:
    with pytest.raises(StorageNotShared):
        _serve().server({"AUTHDEMO_RATELIMIT_STORAGE_URI": store})


def test_one_worker_may_count_in_memory() -> None:
    server = _serve().server(
        {"AUTHDEMO_RATELIMIT_STORAGE_URI": "memory://", "AUTHDEMO_WORKERS": "1"}
    )
    assert server.workers == 1
