"""The shipped HTTP server as `make serve` and deploy/authdemo.service start it
(``python deploy/serve.py``: granian, decision 0020), for the tests that meet it over real
sockets. One home, so those tests cannot drift from what is shipped:
tests/deployed/test_systemd_units.py holds the unit and the Makefile to this command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
#: The command, run from the checkout (the unit's WorkingDirectory).
COMMAND = (str(VENV_BIN / "python"), "deploy/serve.py")
#: The environment the unit and `make serve` add (fewer glibc malloc arenas).
ENVIRONMENT = {"MALLOC_ARENA_MAX": "2"}


def start(env: Mapping[str, str], *, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start it with ``env`` (AUTHDEMO_BIND, AUTHDEMO_WORKERS, ... as an operator sets them);
    stop it with ``terminate()`` (SIGTERM: graceful, as systemd stops it)."""
    return subprocess.Popen(
        COMMAND,
        env={**env, **ENVIRONMENT},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30) -> None:
    """Until ``url``'s /healthz answers 200 (the app is serving and reaches its database),
    as a load balancer's health check waits; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")
