"""answers replaced by an update of the same visit are kept, as versions

A second feedback for the same station within the update window used to delete the
first one's answers; a station that pressed a citizen to "correct" a feedback erased
the evidence. They are now copied here first.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_version",
        sa.Column("feedback_id", sa.Integer(), sa.ForeignKey("feedback.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("question_id", sa.String(40), primary_key=True),
        sa.Column("option_id", sa.String(40), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("voice_ref", sa.String(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("given_in", sa.Integer(), sa.ForeignKey("feedback.id"), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("answer_version")
