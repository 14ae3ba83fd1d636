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


COLUMNS = ["sender", "station_code", "started_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_feedback_sender_station_started", "feedback", COLUMNS)
        op.drop_index("ix_feedback_sender_station", table_name="feedback")
        return
    # CONCURRENTLY, outside a transaction, as in 0011: answers are written meanwhile; an
    # invalid index from an interrupted build is dropped and built again.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_feedback_sender_station_started")
        op.create_index("ix_feedback_sender_station_started", "feedback", COLUMNS,
                        postgresql_concurrently=True)
        op.drop_index("ix_feedback_sender_station", table_name="feedback",
                      postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    op.create_index("ix_feedback_sender_station", "feedback", ["sender", "station_code"])
    op.drop_index("ix_feedback_sender_station_started", table_name="feedback")
