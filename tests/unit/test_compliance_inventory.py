"""compliance/data-inventory.yaml against the schema: every table and column, both ways,
and each column's personal/export mark in the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Column, MetaData, String

from authdemo.compliance import inventory
from authdemo.models import Base

PACK = Path(__file__).resolve().parents[2] / "compliance"


@pytest.fixture
def raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(
        (PACK / inventory.INVENTORY_FILE).read_text(), Loader=yaml.CSafeLoader
    )
    return loaded


def schema_copy() -> MetaData:
    copy = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_the_real_inventory_matches_the_schema() -> None:
    assert list(inventory.drift(inventory.load(PACK), Base.metadata)) == []


def test_every_column_has_a_purpose_and_every_withheld_column_a_reason() -> None:
    for table in inventory.load(PACK).tables:
        for column in table.columns:
            assert column.purpose, f"{table.name}.{column.name}"
            assert column.exported or column.reason, f"{table.name}.{column.name}"


def test_a_column_added_to_the_schema_is_drift() -> None:
    schema = schema_copy()
    schema.tables["users"].append_column(Column("email", String(254)))
    assert list(inventory.drift(inventory.load(PACK), schema)) == [
        "column users.email is in the schema but not in data-inventory.yaml"
    ]


def test_a_table_added_to_the_schema_is_drift() -> None:
    schema = schema_copy()
    from sqlalchemy import Table

    Table("face_templates", schema, Column("id", String(32), primary_key=True))
    assert list(inventory.drift(inventory.load(PACK), schema)) == [
        "table face_templates is in the schema but not in data-inventory.yaml"
    ]


def test_a_documented_column_the_schema_lacks_is_drift(raw: dict[str, Any]) -> None:
    raw["tables"]["users"]["columns"]["phone"] = {
        "personal": True,
        "exported": True,
        "purpose": "never collected",
    }
    assert list(inventory.drift(inventory.parse(raw), Base.metadata)) == [
        "column users.phone is in data-inventory.yaml but not in the schema"
    ]


def test_a_personal_mark_that_disagrees_with_the_model_is_drift() -> None:
    schema = schema_copy()
    schema.tables["users"].columns["username"].info = {"personal": False}
    [message] = inventory.drift(inventory.load(PACK), schema)
    assert message.startswith("column users.username: the model's info marks personal=False")


def test_an_export_mark_that_disagrees_with_the_model_is_drift() -> None:
    schema = schema_copy()
    schema.tables["passkeys"].columns["public_key"].info = {
        "personal": True,
        "export": False,
        "reason": "withheld",
    }
    [message] = inventory.drift(inventory.load(PACK), schema)
    assert message.startswith("column passkeys.public_key: the model's info marks export=False")


def test_a_withheld_column_without_a_reason_is_refused(raw: dict[str, Any]) -> None:
    raw["tables"]["passkeys"]["columns"]["public_key"] = {
        "personal": True,
        "exported": False,
        "purpose": "verify signatures",
    }
    with pytest.raises(inventory.InventoryError, match="needs a reason"):
        inventory.parse(raw)


def test_an_unknown_lawful_basis_is_refused(raw: dict[str, Any]) -> None:
    raw["tables"]["users"]["lawful_basis"] = "because"
    with pytest.raises(inventory.InventoryError, match="not one of lawful_bases"):
        inventory.parse(raw)


def test_a_retention_limit_must_be_a_setting(raw: dict[str, Any]) -> None:
    raw["tables"]["audit_events"]["retention"]["limit"] = "AUDIT_KEEP_DAYS"
    with pytest.raises(inventory.InventoryError, match="is not a setting"):
        inventory.parse(raw)
