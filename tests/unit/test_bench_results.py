"""What ``make bench`` records about the machine names no path on it (issue 18 item 6):
bench/results.json is shared with figures, and a home folder or user name is not one."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report


def test_the_machine_record_names_no_path_of_the_machine(tmp_path: Path) -> None:
    folder = tmp_path / "someones-home" / "authdemo" / "instance"
    folder.mkdir(parents=True)
    recorded = json.dumps(report.machine(folder))
    assert "someones-home" not in recorded
    assert str(Path.home()) not in recorded
