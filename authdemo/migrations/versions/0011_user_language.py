"""the language an account chose

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:30:00

Issue 19 item 1 (docs/decisions/0028-languages.md): users.language, the language the
person chose for the pages while signed in; null (every existing account) means follow the
browser's Accept-Language.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("language")
