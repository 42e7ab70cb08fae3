"""Who commits is explicit (issue 14 item 1; docs/decisions/0012-use-case-transactions.md).

Read from the source, as a reviewer would: a ``commit()`` call appears only in a route
module, a CLI command module or a migration; never in a service, hook, loader, helper
or factory, and never in an ``except`` block (that pattern committed whatever a refused
use case had written, which is how an account without consent was created).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "authdemo"

#: Where a transaction may end: the request layer and the operator's commands.
COMMITTING_MODULES = ("routes.py", "cli.py")


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _commit_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_the_walk_finds_the_commits_it_is_looking_for() -> None:
    """The check cannot pass by finding nothing: the routes do commit."""
    routes = PACKAGE / "passkeys" / "routes.py"
    assert _commit_calls(ast.parse(routes.read_text()))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_routes_and_cli_commands_commit(path: Path) -> None:
    calls = _commit_calls(ast.parse(path.read_text()))
    if path.name in COMMITTING_MODULES:
        return
    lines = [call.lineno for call in calls]
    assert not lines, f"{path.relative_to(PACKAGE)} commits at lines {lines}"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_commits_in_an_except_block(path: Path) -> None:
    """A refusal's kept writes come back as ``Refused`` and are committed on the normal
    path; an ``except`` that commits would keep whatever the refused use case wrote."""
    tree = ast.parse(path.read_text())
    handlers = [node for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler)]
    lines = sorted({call.lineno for h in handlers for call in _commit_calls(h)})
    assert not lines, f"{path.relative_to(PACKAGE)} commits in an except block at {lines}"


def test_no_sign_in_signal_handler_is_connected_at_import_time() -> None:
    """Hooks are connected in ``create_app`` (visible in one place), not by importing."""
    for path in _sources():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else ""
                assert name not in {"connect", "user_loader", "unauthorized_handler"}, (
                    f"{path.relative_to(PACKAGE)}:{node.lineno} registers a hook on import"
                )
