"""The migration history stays a single line: one head, so `flask db upgrade` is never
ambiguous after two branches each add a migration (Alembic "multiple heads")."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from authdemo.database import alembic_config


def test_migrations_have_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; merge or re-parent them"


def test_every_migration_descends_from_the_first() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    bases = script.get_bases()
    assert len(bases) == 1, f"several migration roots: {bases}"
