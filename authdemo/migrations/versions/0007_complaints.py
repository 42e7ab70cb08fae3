"""complaints

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 08:00:00

Issue 20 item 3 (docs/decisions/0022-pilot-and-guardrails.md): what people send with the
"Report a problem" form, kept COMPLAINT_RETENTION_DAYS (compliance/retention.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("cohort", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_complaints_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints") as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_received_at"), ["received_at"])
        batch_op.create_index(batch_op.f("ix_complaints_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_user_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_received_at"))
    op.drop_table("complaints")
