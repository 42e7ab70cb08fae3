"""audit session hash

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-05 08:30:00

Issue 17 item 2 (docs/decisions/0025-design-system.md): an audit row says which sign-in
session caused it, as a keyed hash of the session's id, so the security notices a session
shows leave out that session's own changes. Rows written before have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("session_ref", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("session_ref")
