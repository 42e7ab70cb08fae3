"""The files people read before they copy the project: LICENSE matches pyproject.toml,
SECURITY.md says how to report and what is supported, CHANGELOG.md keeps its format."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
#: Keep a Changelog 1.1.0: the only kinds of change.
CHANGE_TYPES = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_license_file_is_the_license_pyproject_declares() -> None:
    assert PROJECT["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.splitlines()[0] == "MIT License"
    assert re.search(r"^Copyright \(c\) \d{4} \S", text, flags=re.MULTILINE)
    # The two sentences that make it the MIT licence (opensource.org/license/mit).
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_security_policy_says_how_to_report_the_scope_and_supported_versions() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert {"Reporting a vulnerability", "Scope", "Supported versions"} <= set(headings)
    major, minor, _ = PROJECT["version"].split(".")
    assert f"({major}.{minor}.x)" in text
    assert "/.well-known/security.txt" in text


def test_the_changelog_follows_keep_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n")
    versions = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, flags=re.MULTILINE)
    assert len(versions) == len(re.findall(r"^## ", text, flags=re.MULTILINE))
    assert versions[0] == ("Unreleased", "")
    released = versions[1:]
    assert PROJECT["version"] in {version for version, _ in released}
    dates = [date.fromisoformat(day) for _, day in released]
    assert dates == sorted(dates, reverse=True), "newest first"
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        kinds = re.split(r"^### ", section, flags=re.MULTILINE)[1:]
        assert kinds, section.splitlines()[0]
        for kind in kinds:
            name, _, body = kind.partition("\n")
            assert name in CHANGE_TYPES, name
            assert re.search(r"^- \S", body, flags=re.MULTILINE), f"empty {name}"
