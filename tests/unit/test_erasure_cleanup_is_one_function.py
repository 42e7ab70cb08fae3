"""The clean-up after a committed erasure has one home, ``residue.after_erasure``
(issue 14 item 1; decision 0012): no route or command clears an account's limiter keys
itself, and both the self-service route and the CLI call the shared function."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "authdemo"


def _called(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            names.add(node.func.attr)
    return names


def test_only_the_residue_module_clears_an_accounts_limiter_keys() -> None:
    callers = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "residue.py" and "forget_limiter_keys" in _called(path)
    ]
    assert callers == []


def test_the_route_and_the_cli_run_the_same_clean_up() -> None:
    for module in ("routes.py", "cli.py"):
        assert "after_erasure" in _called(PACKAGE / "privacy" / module), module
