"""What happened to each cited test in a real run: pytest's JUnit XML result.

``make test`` runs ``pytest --junitxml=...`` first and ``flask compliance check --junit``
on its result afterwards. CI runs the suite once per database (SQLite, PostgreSQL), each
run skipping what only the other can do, so the check takes several results: a cited test
must pass in at least one and fail in none. Expected to fail (``xfail``), failed, or
never run at all: the claim it backs is not proven. Skipped in every run (a service was
not up) is a problem where every service is up (CI: ``--every-service``), a note
elsewhere, so ``make test`` on a laptop without PostgreSQL still says what was not proven.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405 - reads our own pytest's output
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


class ResultError(ValueError):
    """A result file that cannot be read as pytest's JUnit XML."""


@dataclass(slots=True)
class Outcomes:
    passed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    xfailed: list[str] = field(default_factory=list)


def junit_key(node_id: str) -> str:
    """``tests/unit/test_x.py::Cls::test_y[p]`` -> ``tests.unit.test_x.Cls::test_y[p]``,
    the ``classname::name`` pytest writes into its JUnit XML."""
    file, *names = node_id.split("::")
    classname = ".".join([file.removesuffix(".py").replace("/", "."), *names[:-1]])
    return f"{classname}::{names[-1]}" if names else classname


def load(paths: Iterable[Path]) -> dict[str, Outcomes]:
    """Outcomes by JUnit key (parameters kept), over every given run."""
    outcomes: dict[str, Outcomes] = {}
    for path in paths:
        try:
            tree = ET.parse(path)  # noqa: S314  # nosec B314 - written by our own test run
        except (OSError, ET.ParseError) as exc:
            raise ResultError(f"{path}: not a readable JUnit XML file ({exc})") from exc
        for case in tree.iter("testcase"):
            key = f"{case.get('classname', '')}::{case.get('name', '')}"
            seen = outcomes.setdefault(key, Outcomes())
            skipped = case.find("skipped")
            if case.find("failure") is not None or case.find("error") is not None:
                seen.failed += 1
            elif skipped is not None:
                message = skipped.get("message", "")
                if skipped.get("type") == "pytest.xfail":
                    seen.xfailed.append(message)
                else:
                    seen.skipped.append(message)
            else:
                seen.passed += 1
    return outcomes


@dataclass(frozen=True, slots=True)
class Verdict:
    #: "missing", "failed", "xfail" or "skipped".
    kind: str
    message: str


def judge(cited: str, outcomes: dict[str, Outcomes]) -> Verdict | None:
    """Why the runs do not back the cited test (``None`` if they do). A citation
    without parameters covers every parametrized case of the test."""
    key = junit_key(cited)
    if "[" in key:
        matching = [o for k, o in outcomes.items() if k == key]
    else:
        matching = [o for k, o in outcomes.items() if k == key or k.startswith(key + "[")]
    if not matching:
        return Verdict("missing", "was not run in the test results given")
    if any(o.failed for o in matching):
        return Verdict("failed", "failed in the test results given")
    xfailed = [m for o in matching for m in o.xfailed]
    if xfailed:
        return Verdict("xfail", f"is expected to fail (xfail: {xfailed[0] or 'no reason'})")
    if not any(o.passed for o in matching):
        reasons = "; ".join(sorted({m for o in matching for m in o.skipped})) or "no reason"
        return Verdict("skipped", f"was skipped in every run ({reasons})")
    return None
