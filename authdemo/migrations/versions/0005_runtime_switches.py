"""runtime passkey switches

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:10:00

Issue 20 item 1 (docs/decisions/0022-pilot-and-guardrails.md): the passkey switches an
operator (or, later, the guardrail evaluator) sets while the app runs; every instance
reads this table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_switches",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runtime_switches")),
    )


def downgrade() -> None:
    op.drop_table("runtime_switches")
