"""bursts and streaks kept with each station's day

The rollups are a cache: they are emptied here and rebuilt as digests ask for days.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM station_day")
    op.execute("DELETE FROM rolled_up_day")
    op.add_column("station_day", sa.Column("burst", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.add_column("station_day", sa.Column("top_streak", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.add_column("rolled_up_day", sa.Column("burst_minutes", sa.Integer(), nullable=False,
                                             server_default="10"))


def downgrade() -> None:
    with op.batch_alter_table("rolled_up_day") as table:
        table.drop_column("burst_minutes")
    with op.batch_alter_table("station_day") as table:
        table.drop_column("top_streak")
        table.drop_column("burst")
