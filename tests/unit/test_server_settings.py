"""deploy/serve.py, the shipped server's settings (decision 0020), read the way the
systemd unit and `make serve` start it: from AUTHDEMO_* variables."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
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


# --- a setting the launcher cannot use: one line that names it, no traceback --------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUTHDEMO_WORKERS", "two"),
        ("AUTHDEMO_WORKERS", ""),
        ("AUTHDEMO_WORKERS", "0"),
        ("AUTHDEMO_WORKERS", "-1"),
        ("AUTHDEMO_WORKERS", "1.5"),
        ("AUTHDEMO_WORKERS", "²"),
        ("AUTHDEMO_THREADS", "many"),
        ("AUTHDEMO_THREADS", "0"),
        ("AUTHDEMO_BIND", "127.0.0.1"),
        ("AUTHDEMO_BIND", "localhost:"),
        ("AUTHDEMO_BIND", "127.0.0.1:http"),
        ("AUTHDEMO_BIND", "127.0.0.1:0"),
        ("AUTHDEMO_BIND", "127.0.0.1:65536"),
        ("AUTHDEMO_BIND", "[::1]"),
        ("AUTHDEMO_BIND", "127.0.0.1: 8000x"),
        ("AUTHDEMO_BIND", ""),
    ],
)
def test_a_setting_the_server_cannot_use_is_refused_naming_it(variable: str, value: str) -> None:
    serve = _serve()
    with pytest.raises(serve.ServerSettingError, match=variable) as refused:
        serve.server({**REDIS, variable: value})
    assert repr(value) in str(refused.value), "the message shows what was set"


def _launch(
    tmp_path: Path, *args: str, command: list[str] | None = None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """``python deploy/serve.py`` as make serve and the unit run it (or ``command``), with
    this environment and a temporary folder of its own."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(tmp), **REDIS, **variables}
    return subprocess.run(
        command or [sys.executable, str(SERVE), *args],
        env=env,
        cwd=SERVE.parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "variables",
    [
        {"AUTHDEMO_WORKERS": "two"},
        {"AUTHDEMO_THREADS": "2x"},
        {"AUTHDEMO_BIND": "127.0.0.1"},
        {"AUTHDEMO_RATELIMIT_STORAGE_URI": "memory://"},
    ],
    ids=["workers", "threads", "bind", "storage"],
)
def test_the_launcher_says_what_is_wrong_in_one_line_and_leaves_nothing(
    tmp_path: Path, variables: dict[str, str]
) -> None:
    launched = _launch(tmp_path, **variables)
    assert launched.returncode == 1
    lines = launched.stderr.strip().splitlines()
    assert len(lines) == 1, launched.stderr
    assert lines[0].startswith("authdemo: "), lines[0]
    assert all(name in lines[0] for name in variables), "the line names the setting"
    assert "Traceback" not in launched.stderr
    assert list((tmp_path / "tmp").iterdir()) == [], "a refused start leaves no folder behind"


def test_a_setting_the_app_refuses_stops_the_launcher_before_any_worker_starts(
    tmp_path: Path,
) -> None:
    """Production with none of its settings: each worker's create_app would refuse it, crash,
    be started again and crash again, a traceback each time, until granian gave up on the
    crash loop (as it did before the launcher checked the app's settings itself)."""
    launched = _launch(tmp_path, AUTHDEMO_ENV="production", AUTHDEMO_BIND="127.0.0.1:1")
    assert launched.returncode == 1
    lines = launched.stderr.strip().splitlines()
    assert len(lines) == 1, launched.stderr
    assert lines[0].startswith("authdemo: AUTHDEMO_"), lines[0]
    assert "worker" not in launched.stderr.lower()
    assert list((tmp_path / "tmp").iterdir()) == [], "a refused start leaves no folder behind"


def test_make_serve_says_what_is_wrong_in_one_line_before_the_migrations() -> None:
    """``make serve`` as an operator runs it, production with nothing set: the launcher's
    check speaks first (``flask db upgrade`` printed a 35-line traceback before it)."""
    launched = subprocess.run(
        ["make", "--no-print-directory", "serve"],
        env={"PATH": os.environ["PATH"], "AUTHDEMO_ENV": "production", **REDIS},
        cwd=SERVE.parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert launched.returncode != 0
    said = [line for line in launched.stderr.splitlines() if not line.startswith("make: ")]
    assert len(said) == 1, launched.stderr
    assert said[0].startswith("authdemo: AUTHDEMO_"), said[0]
    assert "Traceback" not in launched.stderr + launched.stdout
    assert "db upgrade" not in launched.stdout


def test_the_check_alone_starts_nothing_and_a_stray_argument_is_refused(tmp_path: Path) -> None:
    checked = _launch(
        tmp_path, "--check", AUTHDEMO_WORKERS="1", AUTHDEMO_INSTANCE_PATH=str(tmp_path / "i")
    )
    assert (checked.returncode, checked.stderr) == (0, "")
    assert list((tmp_path / "tmp").iterdir()) == []
    stray = _launch(tmp_path, "--chekc")
    assert stray.returncode == 2
    assert stray.stderr.strip() == "usage: python deploy/serve.py [--check]"
