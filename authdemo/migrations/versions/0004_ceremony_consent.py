"""sign-up ceremony carries the consent decision it was started with

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:20:00

The notice version the person agreed to when they asked for the sign-up options, and
the hash of the deployment-facts block shown beside it, are stored with the ceremony and
recorded in the ledger from there, in the transaction that creates the account
(docs/decisions/0012-use-case-transactions.md, issue 14 item 2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("consent_notice_version", sa.String(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("consent_facts_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        batch_op.drop_column("consent_facts_sha256")
        batch_op.drop_column("consent_notice_version")
