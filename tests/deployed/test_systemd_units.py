"""The systemd units in deploy/ (issue 15 item 8): the server, and the timer that runs the
retention purge. The deployed stage starts the app server with the server unit's own
``ExecStart`` (``stack.server_command``); these tests check the units themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deployed import stack
from tests.support import shipped_server

UNITS = [
    stack.SERVER_UNIT,
    stack.RETENTION_SERVICE,
    stack.RETENTION_TIMER,
    stack.GUARDRAILS_SERVICE,
    stack.GUARDRAILS_TIMER,
]
#: What both services share: who runs them, where, with which settings, and the sandbox.
SHARED = [
    "User",
    "Group",
    "WorkingDirectory",
    "EnvironmentFile",
    "UMask",
    "NoNewPrivileges",
    "PrivateTmp",
    "ProtectSystem",
    "ProtectHome",
    "CapabilityBoundingSet",
    "RestrictAddressFamilies",
]


def test_systemd_accepts_the_units_without_a_single_warning(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the units are still parsed below")
    # Installed in this checkout instead of /opt/authdemo, so the programs they start exist.
    for unit in UNITS:
        text = unit.read_text().replace(stack.INSTALL_DIR, str(stack.ROOT))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / unit.name) for unit in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    # verify exits 0 even for unknown keys and values it ignores; those are warnings.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_the_server_unit_runs_the_shipped_server_as_make_serve_does() -> None:
    service = stack.read_unit(stack.SERVER_UNIT)["Service"]
    command, env = stack.server_command()
    assert command[0] == str(stack.ROOT / ".venv" / "bin" / "python")
    # The command the production tests start (tests/support/shipped_server.py) ...
    assert command[1:] == list(shipped_server.COMMAND[1:])
    assert env == shipped_server.ENVIRONMENT  # as docs/deployment.md asks
    # ... and the one `make serve` runs.
    makefile = (stack.ROOT / "Makefile").read_text()
    serve = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "MALLOC_ARENA_MAX=2 $(BIN)/python deploy/serve.py" in serve
    assert service["Type"] == "exec"  # granian does not notify systemd (no sd_notify)
    assert service["WorkingDirectory"] == stack.INSTALL_DIR
    assert service["Restart"] == "on-failure"
    assert service["User"] != "root"


def test_the_timer_runs_the_retention_purge_every_hour_with_the_servers_settings() -> None:
    timer = stack.read_unit(stack.RETENTION_TIMER)["Timer"]
    assert timer["Unit"] == stack.RETENTION_SERVICE.name
    assert timer["OnCalendar"] == "hourly"  # compliance/retention.md
    assert timer["Persistent"] == "true"
    purge = stack.read_unit(stack.RETENTION_SERVICE)["Service"]
    assert purge["Type"] == "oneshot"
    assert purge["ExecStart"] == f"{stack.INSTALL_DIR}/.venv/bin/flask retention purge"
    assert purge["ExecStartPost"] == f"{stack.INSTALL_DIR}/.venv/bin/flask compliance ledger"
    server = stack.read_unit(stack.SERVER_UNIT)["Service"]
    assert {key: purge.get(key) for key in SHARED} == {key: server.get(key) for key in SHARED}


def test_the_guardrails_timer_runs_the_check_beside_the_purge_with_the_servers_settings() -> None:
    timer = stack.read_unit(stack.GUARDRAILS_TIMER)["Timer"]
    assert timer["Unit"] == stack.GUARDRAILS_SERVICE.name
    assert timer["OnCalendar"] == "*:0/15"  # docs/rollout.md: within a quarter of an hour
    assert timer["Persistent"] == "true"
    check = stack.read_unit(stack.GUARDRAILS_SERVICE)["Service"]
    assert check["Type"] == "oneshot"
    assert check["ExecStart"] == f"{stack.INSTALL_DIR}/.venv/bin/flask guardrails check"
    server = stack.read_unit(stack.SERVER_UNIT)["Service"]
    assert {key: check.get(key) for key in SHARED} == {key: server.get(key) for key in SHARED}
    purge = stack.read_unit(stack.RETENTION_SERVICE)
    guardrails = stack.read_unit(stack.GUARDRAILS_SERVICE)
    assert dict(guardrails["Unit"]).keys() == dict(purge["Unit"]).keys()


def test_the_deployment_doc_installs_every_unit() -> None:
    doc = stack.DEPLOYMENT_DOC.read_text()
    for unit in UNITS:
        assert f"deploy/{unit.name}" in doc, unit.name
