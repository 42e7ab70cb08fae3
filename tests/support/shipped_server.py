"""The shipped HTTP server as `make serve` and deploy/authdemo.service start it
(``python deploy/serve.py``: granian, decision 0020), for the tests that meet it over real
sockets. One home, so those tests cannot drift from what is shipped:
tests/deployed/test_systemd_units.py holds the unit and the Makefile to this command."""

from __future__ import annotations

import subprocess
import sys
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
