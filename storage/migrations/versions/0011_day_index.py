"""a day's feedback read from one index: station, status and last change beside started_at

Rolling a day up counts its feedback per station and status and reads their last
change; with all of them in the index, the day is read without touching the table, and
SQLite no longer prefers skipping through the station index (measured at 10 million
feedback: 0.9 s a day before, under 0.1 s after).

On PostgreSQL the index is built CONCURRENTLY, outside a transaction, so citizens'
answers are written meanwhile (a build at 10 million rows takes tens of seconds). If
it is interrupted, PostgreSQL leaves an invalid index behind: it is dropped and built
again on the next start.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


COLUMNS = ["started_at", "station_code", "status", "updated_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_feedback_day", "feedback", COLUMNS)
        op.drop_index("ix_feedback_started_updated", table_name="feedback")
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_feedback_day")  # an interrupted try
        op.create_index("ix_feedback_day", "feedback", COLUMNS, postgresql_concurrently=True)
        op.drop_index("ix_feedback_started_updated", table_name="feedback",
                      postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    op.create_index("ix_feedback_started_updated", "feedback", ["started_at", "updated_at"])
    op.drop_index("ix_feedback_day", table_name="feedback")
