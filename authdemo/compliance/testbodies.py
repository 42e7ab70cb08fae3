"""What a cited test can prove, read from its source with ``ast`` (no test is imported).

A citation is worth something only if the test can fail. Two things are visible in the
source: a test with no assertion at all (no ``assert``, no ``pytest.raises``/``warns``,
no Playwright ``expect(...)``, and no call to a helper of the test suite that has one),
and a test marked to be skipped or expected to fail (``@pytest.mark.skip``/``xfail`` on
the function, its class, or the module's ``pytestmark``). Whether a test was skipped at
run time is in the run's result instead (authdemo/compliance/results.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Calls that are assertions in this test suite's idiom.
_ASSERTING_CALLS = frozenset({"raises", "warns", "fail", "expect"})
_DISABLING_MARKS = frozenset({"skip", "xfail"})


@dataclass(frozen=True, slots=True)
class TestBody:
    #: The test (or a suite helper it calls) asserts something.
    asserts: bool
    #: "skip" or "xfail" when the source marks the test so unconditionally, else "".
    disabled: str


def read(root: Path, node_id: str) -> TestBody | None:
    """The body of ``file.py::[Class::]test`` under ``root``, or ``None`` if not found."""
    file, *names = node_id.split("[", 1)[0].split("::")
    module = _module(root.resolve(), file)
    if module is None or not names:
        return None
    body: list[ast.stmt] = module.body
    disabled = _module_mark(module.body)
    for class_name in names[:-1]:
        cls = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
        if cls is None:
            return None
        disabled = disabled or _marks(cls.decorator_list)
        body = cls.body
    function = next(
        (
            n
            for n in body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == names[-1]
        ),
        None,
    )
    if function is None:
        return None
    disabled = disabled or _marks(function.decorator_list)
    return TestBody(_asserts(root.resolve(), file, function, frozenset()), disabled)


def _module(root: Path, file: str) -> ast.Module | None:
    path = (root / file).resolve()
    return _parsed(path) if path.is_file() else None


@cache
def _parsed(path: Path) -> ast.Module:
    """One parse per file and process (the check reads each cited file many times)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _asserts(root: Path, file: str, function: ast.AST, seen: frozenset[str]) -> bool:
    """True if ``function`` asserts, directly or through a helper of the test suite."""
    helpers: list[str] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in _ASSERTING_CALLS or name.startswith(("assert", "expect")):
                return True
            if isinstance(node.func, ast.Name):
                helpers.append(name)
    for name in helpers:
        key = f"{file}::{name}"
        if key in seen:
            continue
        found = _helper(root, file, name)
        if found is not None and _asserts(root, found[0], found[1], seen | {key}):
            return True
    return False


def _helper(root: Path, file: str, name: str) -> tuple[str, ast.AST] | None:
    """A function ``name`` defined in ``file`` or imported into it from the test suite."""
    module = _module(root, file)
    if module is None:
        return None
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return file, node
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests"):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = str(node.module).replace(".", "/") + ".py"
                    return _helper(root, source, alias.name)
    return None


def _marks(decorators: Iterable[ast.expr]) -> str:
    for decorator in decorators:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (
            isinstance(target, ast.Attribute)
            and target.attr in _DISABLING_MARKS
            and isinstance(target.value, ast.Attribute)
            and target.value.attr == "mark"
        ):
            return target.attr
    return ""


def _module_mark(body: Iterable[ast.stmt]) -> str:
    for node in body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = (
                node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            )
            return _marks(values)
    return ""
