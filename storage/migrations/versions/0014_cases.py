"""cases: a feedback that raised alerts, followed from the alert to its closure

One case per feedback, with every step as an event (who, when, what was written).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feedback_id", sa.Integer(), sa.ForeignKey("feedback.id"), nullable=False,
                  unique=True),
        sa.Column("station_code", sa.String(64), sa.ForeignKey("station.code"),
                  nullable=False),
        sa.Column("red", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_case_station_code", "feedback_case", ["station_code"])
    op.create_index("ix_feedback_case_state_due", "feedback_case", ["state", "due_at"])
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("feedback_case.id"), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer_id", sa.Integer(), sa.ForeignKey("officer.id"), nullable=True),
        sa.Column("preset", sa.String(40), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("media_ref", sa.String(), nullable=True),
    )
    op.create_index("ix_case_event_case_id", "case_event", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_event")
    op.drop_table("feedback_case")
