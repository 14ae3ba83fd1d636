"""how fast each citizen writes: a minute's count of their messages

A citizen past `sessions.max_messages_per_minute` is asked once to slow down and is
neither answered nor stored for the rest of that minute; the count lives in the
database so that every process serving the district sees the same one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "citizen_pace",
        sa.Column("sender", sa.String(64), primary_key=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("citizen_pace")
