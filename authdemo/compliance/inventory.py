"""compliance/data-inventory.yaml: every table and column, why it is held, for how long.

The inventory is written for a DPO; this module reads it into typed records, checks its
shape, and compares it with the ORM metadata (``authdemo.models.Base.metadata``): a table
or column missing from either side, or a personal/exported mark that disagrees with the
column's own ``info`` mark (set in authdemo/models/), is drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import MetaData

from authdemo.config import Settings

INVENTORY_FILE = "data-inventory.yaml"
SETTING_NAMES = frozenset(f.name for f in fields(Settings))
#: libyaml's safe loader when PyYAML was built with it (ten times faster), else Python's.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InventoryError(ValueError):
    """The inventory file is not the shape this module reads."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    personal: bool
    exported: bool
    purpose: str
    reason: str
    erasure: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    title: str
    purpose: str
    lawful_basis: str
    retention: str
    #: The setting that bounds how long rows are kept, if one does.
    retention_limit: str | None
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class NeverCollected:
    """Something the app never collects, and the words no column name may contain."""

    name: str
    statement: str
    no_column_named: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inventory:
    lawful_bases: Mapping[str, str]
    tables: tuple[Table, ...]
    never_collected: tuple[NeverCollected, ...] = ()

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def load(folder: Path) -> Inventory:
    """Read and shape-check compliance/data-inventory.yaml."""
    path = folder / INVENTORY_FILE
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)  # noqa: S506
    except OSError as exc:
        raise InventoryError(f"{INVENTORY_FILE}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise InventoryError(f"{INVENTORY_FILE}: not valid YAML ({exc})") from exc
    return parse(raw)


def parse(raw: object) -> Inventory:
    doc = _mapping(raw, "the document")
    if doc.get("version") != 1:
        raise InventoryError(f"{INVENTORY_FILE}: version must be 1")
    bases = {
        str(k): _text(v, f"lawful_bases.{k}")
        for k, v in _mapping(doc.get("lawful_bases"), "lawful_bases").items()
    }
    tables = []
    for name, body in _mapping(doc.get("tables"), "tables").items():
        tables.append(_table(str(name), _mapping(body, f"tables.{name}"), bases))
    never = tuple(
        _never(str(name), _mapping(body, f"never_collected.{name}"))
        for name, body in _mapping(doc.get("never_collected"), "never_collected").items()
    )
    return Inventory(bases, tuple(tables), never)


def _never(name: str, body: Mapping[str, Any]) -> NeverCollected:
    where = f"never_collected.{name}"
    words = body.get("no_column_named")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        raise InventoryError(f"{INVENTORY_FILE}: {where}.no_column_named must list words")
    return NeverCollected(
        name=name,
        statement=_text(body.get("statement"), f"{where}.statement"),
        no_column_named=tuple(w.lower() for w in words),
    )


def never_collected_drift(inventory: Inventory, names: Mapping[str, str]) -> Iterator[str]:
    """Names (a column or audit-detail key -> how to call it) that contradict a "never
    collected" statement: the name's ``_``-separated words contain a listed word."""
    for entry in inventory.never_collected:
        for word in entry.no_column_named:
            forbidden = word.split("_")
            for name, where in sorted(names.items()):
                parts = name.lower().split("_")
                if any(
                    parts[i : i + len(forbidden)] == forbidden
                    for i in range(len(parts) - len(forbidden) + 1)
                ):
                    yield (
                        f"{where} contradicts never_collected.{entry.name} "
                        f"(its name contains {word!r})"
                    )


def _table(name: str, body: Mapping[str, Any], bases: Mapping[str, str]) -> Table:
    where = f"tables.{name}"
    basis = _text(body.get("lawful_basis"), f"{where}.lawful_basis")
    if basis not in bases:
        raise InventoryError(f"{where}.lawful_basis: {basis!r} is not one of lawful_bases")
    retention = _mapping(body.get("retention"), f"{where}.retention")
    limit = retention.get("limit")
    if limit is not None and limit not in SETTING_NAMES:
        raise InventoryError(f"{where}.retention.limit: {limit!r} is not a setting")
    columns = tuple(
        _column(str(col), _mapping(spec, f"{where}.columns.{col}"), f"{where}.columns.{col}")
        for col, spec in _mapping(body.get("columns"), f"{where}.columns").items()
    )
    return Table(
        name=name,
        title=_text(body.get("title"), f"{where}.title"),
        purpose=_text(body.get("purpose"), f"{where}.purpose"),
        lawful_basis=basis,
        retention=_text(retention.get("summary"), f"{where}.retention.summary"),
        retention_limit=limit,
        columns=columns,
    )


def _column(name: str, spec: Mapping[str, Any], where: str) -> Column:
    personal, exported = spec.get("personal"), spec.get("exported")
    if not isinstance(personal, bool) or not isinstance(exported, bool):
        raise InventoryError(f"{where}: personal and exported must be true or false")
    reason = spec.get("reason", "")
    if not exported and not (isinstance(reason, str) and reason.strip()):
        raise InventoryError(f"{where}: a column that is not exported needs a reason")
    erasure = spec.get("erasure", "")
    if erasure not in {"", "pseudonymise"}:
        raise InventoryError(f"{where}.erasure: only 'pseudonymise' is known")
    return Column(
        name=name,
        personal=personal,
        exported=exported,
        purpose=_text(spec.get("purpose"), f"{where}.purpose"),
        reason=str(reason).strip(),
        erasure=str(erasure),
    )


def drift(inventory: Inventory, metadata: MetaData) -> Iterator[str]:
    """Differences between the inventory and the schema, one message each."""
    documented = {t.name: t for t in inventory.tables}
    for name in sorted(set(metadata.tables) - set(documented)):
        yield f"table {name} is in the schema but not in {INVENTORY_FILE}"
    for name in sorted(set(documented) - set(metadata.tables)):
        yield f"table {name} is in {INVENTORY_FILE} but not in the schema"
    for name in sorted(set(documented) & set(metadata.tables)):
        columns = {c.name: c for c in documented[name].columns}
        schema = metadata.tables[name].columns
        for col in schema:
            entry = columns.get(col.name)
            if entry is None:
                yield f"column {name}.{col.name} is in the schema but not in {INVENTORY_FILE}"
            else:
                yield from _mark_drift(f"{name}.{col.name}", entry, col.info)
        for missing in sorted(set(columns) - {c.name for c in schema}):
            yield f"column {name}.{missing} is in {INVENTORY_FILE} but not in the schema"


def _mark_drift(where: str, entry: Column, info: Mapping[str, Any]) -> Iterator[str]:
    """Compare with the column's own mark (authdemo.models.base.personal), when it has one."""
    if "personal" not in info:
        return
    said = f"column {where}: the model's info marks"
    if info["personal"] != entry.personal:
        yield f"{said} personal={info['personal']}, the inventory {entry.personal}"
        return
    if entry.personal and info.get("export") != entry.exported:
        yield f"{said} export={info.get('export')}, the inventory {entry.exported}"
    if entry.personal and info.get("erasure", "") != entry.erasure:
        yield f"{said} erasure={info.get('erasure', '')!r}, the inventory {entry.erasure!r}"


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise InventoryError(f"{INVENTORY_FILE}: {where} must be a non-empty mapping")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InventoryError(f"{INVENTORY_FILE}: {where} must be non-empty text")
    return " ".join(value.split())
