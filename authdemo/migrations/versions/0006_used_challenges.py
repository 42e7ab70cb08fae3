"""used challenges replace stored ceremonies

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-05 07:40:00

Issue 18 items 1-2 (docs/decisions/0019-sealed-challenges.md): a ceremony's state travels
sealed in the browser's cookie and nothing is stored when it starts; a verify request
records the SHA-256 of the challenge it used, in the same transaction as the sign-in.
Ceremonies in flight during the upgrade are dropped with the table: their people press
the button again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_challenges",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_used_challenges")),
    )
    with op.batch_alter_table("used_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_used_challenges_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ceremonies_expires_at"))
    op.drop_table("ceremonies")


def downgrade() -> None:
    # The table as 0001 and 0004 left it, empty: ceremonies in flight are not carried over.
    op.create_table(
        "ceremonies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sign_up",
                "add_passkey",
                "sign_in",
                "step_up",
                name="ceremonykind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("challenge", sa.LargeBinary(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("pending_username", sa.String(length=32), nullable=True),
        sa.Column("pending_display_name", sa.String(length=64), nullable=True),
        sa.Column("pending_user_handle", sa.LargeBinary(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("consent_notice_version", sa.String(length=16), nullable=True),
        sa.Column("consent_facts_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ceremonies_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ceremonies")),
    )
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ceremonies_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("used_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_challenges_expires_at"))
    op.drop_table("used_challenges")
