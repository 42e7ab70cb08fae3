"""The Prometheus alert rules in deploy/prometheus/: promtool's own unit tests pass, and
every alert has a threshold, a severity, a runbook section an operator can find, and a
test where it fires and one where it stays quiet. (That each series a rule reads exists
in a real scrape: tests/production/test_monitoring.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is missing; `make test` installs Debian's prometheus"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _runbook_sections() -> dict[str, str]:
    """The '#### Name' sections of the doc's monitoring part, by GitHub anchor."""
    doc = DEPLOYMENT_DOC.read_text()
    start = re.search(r"^## (?:\d+\. )?Monitoring and alerts$", doc, flags=re.MULTILINE)
    assert start, "no 'Monitoring and alerts' section in docs/deployment.md"
    part = doc[start.end() :]
    following = re.search(r"^## ", part, flags=re.MULTILINE)
    part = part[: following.start()] if following else part
    sections = re.split(r"^#### ", part, flags=re.MULTILINE)[1:]
    return {s.splitlines()[0].strip().lower(): s for s in sections}


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", "alerts.test.yml"],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_prometheus_configuration_is_valid() -> None:
    result = subprocess.run(
        [_promtool(), "check", "config", "--syntax-only", "prometheus.yml"],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_severity_a_duration_and_a_runbook_section() -> None:
    sections = _runbook_sections()
    for alert in _alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"page", "ticket"}, name
        assert re.fullmatch(r"\d+[mh]", alert["for"]), name
        assert alert["annotations"]["summary"], name
        anchor = name.lower()
        assert alert["annotations"]["runbook"] == f"docs/deployment.md#{anchor}", name
        assert anchor in sections, f"no '#### {name}' section in docs/deployment.md"
        assert len(sections[anchor].split()) > 40, f"the runbook of {name} is a stub"


def test_every_alert_is_tested_firing_and_quiet() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    cases = [case for test in tests for case in test.get("alert_rule_test", [])]
    for alert in _alerts():
        name = alert["alert"]
        expected = [case["exp_alerts"] for case in cases if case["alertname"] == name]
        assert any(expected), f"no promtool case where {name} fires"
        assert any(not alerts for alerts in expected), f"no promtool case where {name} is quiet"
