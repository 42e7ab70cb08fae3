"""deploy/serve.py, started as `make serve` and the systemd unit start it, leaves nothing
behind when it stops (issue 19 review, item 3).

Without ``PROMETHEUS_MULTIPROC_DIR`` the launcher makes a folder for the workers' metric
files in the temporary folder; it is removed when the server stops, whether systemd stops
it (SIGTERM) or a person presses Ctrl-C (SIGINT). Before, every run left one
``authdemo-metrics-*`` folder behind. A folder the operator names is used and left alone:
it is theirs.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support import shipped_server as shipped

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _environment(tmp_path: Path) -> tuple[dict[str, str], str]:
    """What an operator sets for one worker on SQLite, with a temporary folder of its own
    (and no PROMETHEUS_MULTIPROC_DIR); the server's address."""
    port = shipped.free_port()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        {
            "TMPDIR": str(tmp),
            "AUTHDEMO_ENV": "testing",
            "AUTHDEMO_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            "AUTHDEMO_SECRET_KEY": secrets.token_urlsafe(48),
            "AUTHDEMO_ORIGIN": f"http://localhost:{port}",
            "AUTHDEMO_RATELIMIT_STORAGE_URI": "memory-lazy://",
            "AUTHDEMO_BIND": f"127.0.0.1:{port}",
            "AUTHDEMO_WORKERS": "1",
            "FLASK_APP": "authdemo",
        }
    )
    subprocess.run([VENV_BIN / "flask", "db", "upgrade"], env=env, check=True, timeout=60, cwd=ROOT)
    return env, f"http://127.0.0.1:{port}"


def _run_and_stop(env: dict[str, str], url: str, stop: signal.Signals) -> list[Path]:
    """Start the shipped server, have it count a request, stop it with ``stop``; the
    metric folders it made in its temporary folder while it ran."""
    tmp = Path(env["TMPDIR"])
    server = shipped.start(env)
    try:
        shipped.wait_until_up(url)
        with urllib.request.urlopen(url + "/", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        made = sorted(tmp.glob("authdemo-metrics-*"))
        server.send_signal(stop)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=15)
    return made


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["systemd", "ctrl-c"])
def test_the_metrics_folder_the_launcher_made_is_gone_once_it_stops(
    tmp_path: Path, stop: signal.Signals
) -> None:
    env, url = _environment(tmp_path)
    made = _run_and_stop(env, url, stop)
    assert len(made) == 1, made
    assert not made[0].exists(), f"{made[0]} is left behind"
    assert sorted(Path(env["TMPDIR"]).glob("authdemo-metrics-*")) == []


def test_a_metrics_folder_the_operator_names_is_used_and_kept(tmp_path: Path) -> None:
    env, url = _environment(tmp_path)
    theirs = tmp_path / "metrics"
    theirs.mkdir()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(theirs)
    assert _run_and_stop(env, url, signal.SIGTERM) == []
    assert theirs.is_dir()
    assert any(theirs.glob("*.db")), "the workers wrote their counters there"
