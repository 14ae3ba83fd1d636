"""a sender's feedback by station and time, read from the index alone

The digest's roaming-sender flag counts the stations each of the day's senders gave
feedback at in the week; with started_at in the index it never reads the table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_feedback_sender_station_started", "feedback",
                    ["sender", "station_code", "started_at"])
    op.drop_index("ix_feedback_sender_station", table_name="feedback")


def downgrade() -> None:
    op.create_index("ix_feedback_sender_station", "feedback", ["sender", "station_code"])
    op.drop_index("ix_feedback_sender_station_started", table_name="feedback")
