"""consent receipt keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 08:45:00

Issue 19 item 4 (docs/decisions/0027-consent-receipts.md): the public keys that signed
consent receipts, so /.well-known/jwks.json keeps publishing a retired key for
CONSENT_RETENTION_DAYS after its last use. No personal data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_receipt_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_x", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_consent_receipt_keys")),
    )
    with op.batch_alter_table("consent_receipt_keys") as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_receipt_keys_last_used_at"), ["last_used_at"])


def downgrade() -> None:
    with op.batch_alter_table("consent_receipt_keys") as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_receipt_keys_last_used_at"))
    op.drop_table("consent_receipt_keys")
