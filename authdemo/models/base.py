"""Declarative base with a naming convention, so Alembic gets stable constraint names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, MetaData, Table
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware datetimes (SQLite keeps no zone itself)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


# --- data-protection marks, in each column's ``info`` ----------------------------------
# Every column says whether it holds personal data (GDPR Art 4(1)) and, if it does,
# whether the person's export (Art 15 and 20) includes it or why it does not. Tests walk
# ``Base.metadata`` and fail on a column without a mark, or on a personal column missing
# from the export (tests/functional/test_privacy_export.py); the compliance data inventory
# uses the same marks. ``erasure="pseudonymise"`` marks a reference that account erasure
# replaces with a keyed hash instead of deleting the row (authdemo/privacy/service.py).

#: The reason given for a link to the account that the export does not repeat.
ACCOUNT_LINK = "The link to your account; your account id is given once, under account.id."


def personal(*, export: bool = True, reason: str = "", erasure: str = "") -> dict[str, Any]:
    """Mark a column as personal data, exported unless a ``reason`` says why not."""
    if export == bool(reason):
        raise ValueError("a personal column is exported, or withheld with a reason")
    mark: dict[str, Any] = {"personal": True, "export": export}
    if reason:
        mark["reason"] = reason
    if erasure:
        mark["erasure"] = erasure
    return mark


def not_personal() -> dict[str, Any]:
    """Mark a column that holds nothing about a person (a random nonce, a row id)."""
    return {"personal": False}


def table(model: type[Base]) -> Table:
    """The Core table of a mapped class, typed (for statements built once and reused)."""
    mapped = model.__table__
    assert isinstance(mapped, Table)
    return mapped
