"""The DPIA's data-flow diagrams against the data inventory (issue 16 item 13).

A store drawn in compliance/dpia.md (a Mermaid cylinder) must be a table or an
``outside_the_database`` entry of compliance/data-inventory.yaml, and each of those must be
drawn somewhere (authdemo/compliance/dataflow.py).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from authdemo.compliance import dataflow

PACK = Path(__file__).resolve().parents[2] / "compliance"

DIAGRAM = """Some text.

```mermaid
flowchart LR
  browser[Browser] --> app[authdemo]
  app --> users[(users)]
  app -->|counters| limiter_storage[(limiter storage)]
```
"""


def inventory_entries() -> set[str]:
    doc = yaml.safe_load((PACK / "data-inventory.yaml").read_text(encoding="utf-8"))
    return set(doc["tables"]) | set(doc["outside_the_database"])


def test_every_store_in_the_diagrams_is_an_inventory_entry_and_back() -> None:
    text = (PACK / "dpia.md").read_text(encoding="utf-8")
    assert len({s.name for s in dataflow.stores(text)}) >= 10
    assert list(dataflow.drift(text, inventory_entries())) == []


def test_the_diagram_reader_finds_stores_and_not_processes() -> None:
    assert [s.name for s in dataflow.stores(DIAGRAM)] == ["users", "limiter_storage"]
    assert [s.line for s in dataflow.stores(DIAGRAM)] == [6, 7]


def test_a_store_the_inventory_lacks_is_drift() -> None:
    problems = list(dataflow.drift(DIAGRAM, {"users"}))
    assert problems == ["line 7: the diagram's store 'limiter_storage' is not in the inventory"]


def test_an_inventory_entry_no_diagram_shows_is_drift() -> None:
    problems = list(dataflow.drift(DIAGRAM, {"users", "limiter_storage", "backups"}))
    assert problems == ["the inventory's 'backups' is in no data-flow diagram"]


def test_a_pack_without_diagrams_is_drift() -> None:
    assert "no data-flow diagram" in " ".join(dataflow.drift("no diagrams here", set()))
