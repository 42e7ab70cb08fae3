"""The suite's own layout: test modules are imported by basename (rootdir-relative
"prepend" import mode), so two files with one name in different folders stop the whole
run at collection. Caught here too, so a partial run (say, tests/unit alone) sees it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_has_a_basename_of_its_own() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
