"""console steps: a case's step taken from the SP office's web console names its account

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # A console_user id, not declared a foreign key: SQLite drops no column one names.
    op.add_column("case_event", sa.Column("console_user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # In place, not a batch copy (0015 says why).
    op.execute("ALTER TABLE case_event DROP COLUMN console_user_id")
