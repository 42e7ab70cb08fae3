"""consent ledger: the language of the notice text shown

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00

Issue 19 item 3 (docs/decisions/0029-notices-per-language.md). Every decision recorded
before this revision was shown an English text (no other language was published), so
existing rows get "en". Their ``notice_sha256`` is left as recorded: it is the evidence
of what was shown, and ``flask compliance ledger`` compares it with the pin of
(purpose, version, "en") in compliance/notice-pins.json, never with a hash computed here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_language", sa.String(length=16), nullable=True))
    op.execute(sa.text("UPDATE consent_events SET notice_language = 'en'"))
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.alter_column("notice_language", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_column("notice_language")
