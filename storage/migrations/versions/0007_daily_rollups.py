"""daily rollups for the digests, and the indexes a state-sized history needs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # First: the concurrent build commits what came before it, and a migration cut off
    # after committing the new tables would fail on them at every later start.
    _feedback_indexes()
    op.create_table(
        "station_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=False),
        sa.Column("complete", sa.Integer(), nullable=False),
        sa.Column("incomplete", sa.Integer(), nullable=False),
        sa.Column("behaviour_sum", sa.Integer(), nullable=False),
        sa.Column("behaviour_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction_sum", sa.Integer(), nullable=False),
        sa.Column("satisfaction_count", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "station_code"),
    )
    op.create_table(
        "rolled_up_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("feedback", sa.Integer(), nullable=False),
        sa.Column("last_change", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_status_station", ["status", "station_code"],
                              unique=False)
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.create_index("ix_follow_up_asked_at", ["asked_at"], unique=False)
        batch_op.create_index("ix_follow_up_answered_at", ["answered_at"], unique=False)


def _feedback_indexes() -> None:
    """On PostgreSQL built CONCURRENTLY, outside a transaction: the feedback table is the
    big one, and citizens' answers go on being written meanwhile. An invalid index left
    by an interrupted build is dropped and built again on the next start."""
    indexes = {"ix_feedback_started_updated": ["started_at", "updated_at"],
               "ix_feedback_completed_at": ["completed_at"]}
    if op.get_bind().dialect.name != "postgresql":
        for name, columns in indexes.items():
            op.create_index(name, "feedback", columns)
        return
    with op.get_context().autocommit_block():
        for name, columns in indexes.items():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.create_index(name, "feedback", columns, postgresql_concurrently=True)


def downgrade() -> None:
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_up_answered_at")
        batch_op.drop_index("ix_follow_up_asked_at")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_status_station")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_completed_at")
        batch_op.drop_index("ix_feedback_started_updated")
    op.drop_table("rolled_up_day")
    op.drop_table("station_day")
