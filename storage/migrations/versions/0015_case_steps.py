"""case steps: an officer's step waiting for their words, a case's escalation level,
and what kind of media an officer sent with a step

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("officer") as batch:
        batch.add_column(sa.Column("pending", sa.String(80), nullable=True))
        batch.add_column(sa.Column("pending_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("feedback_case") as batch:
        batch.add_column(sa.Column("level", sa.Integer(), nullable=False,
                                   server_default="0"))
    with op.batch_alter_table("case_event") as batch:
        batch.add_column(sa.Column("media_kind", sa.String(8), nullable=True))


def downgrade() -> None:
    # Not a batch: on SQLite that copies each table, and the rows that refer to it forbid
    # dropping the old one. Both databases drop a column in place.
    for table, column in [("case_event", "media_kind"), ("feedback_case", "level"),
                          ("officer", "pending_at"), ("officer", "pending")]:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
