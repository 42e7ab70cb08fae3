"""consent ledger: the deployment-facts hash beside the notice hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:10:00

Decisions recorded before this revision were shown notice version 1 without a
deployment-facts block, so their ``facts_sha256`` stays NULL (nothing is made up).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_column("facts_sha256")
