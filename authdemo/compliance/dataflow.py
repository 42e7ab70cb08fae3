"""The DPIA's data-flow diagrams, held against the data inventory.

compliance/dpia.md draws one Mermaid flowchart per flow. A node drawn as a cylinder,
``id[(label)]``, is a place where personal data rests: its id must be a table of
compliance/data-inventory.yaml or an entry of its ``outside_the_database`` section, and
every such entry must appear in some diagram. So a diagram cannot show a store the
inventory does not describe, and a store cannot be left out of the diagrams.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

DPIA_FILE = "dpia.md"

_BLOCK = re.compile(r"^```mermaid\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: ``id[(label)]``: Mermaid's cylinder shape, used only for stores.
_STORE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\[\(")


@dataclass(frozen=True, slots=True)
class Store:
    name: str
    line: int


def stores(text: str) -> list[Store]:
    """Every store node of every Mermaid block, with its line in ``text``."""
    found = []
    for block in _BLOCK.finditer(text):
        for match in _STORE.finditer(block.group(1)):
            line = text.count("\n", 0, block.start(1) + match.start()) + 1
            found.append(Store(match.group(1), line))
    return found


def entries(pack: Path) -> set[str]:
    """The inventory's tables and its ``outside_the_database`` entries."""
    doc = yaml.safe_load((pack / "data-inventory.yaml").read_text(encoding="utf-8"))
    return set(doc.get("tables") or {}) | set(doc.get("outside_the_database") or {})


def drift(text: str, entries: Iterable[str]) -> Iterator[str]:
    """Problems: a store that is no inventory entry; an entry no diagram shows."""
    known = set(entries)
    drawn = stores(text)
    for store in drawn:
        if store.name not in known:
            yield f"line {store.line}: the diagram's store {store.name!r} is not in the inventory"
    for name in sorted(known - {s.name for s in drawn}):
        yield f"the inventory's {name!r} is in no data-flow diagram"
    if not drawn:
        yield "no data-flow diagram (a ```mermaid block) was found"
