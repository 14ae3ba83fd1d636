"""subdivisions: a station's subdivision, whose SDOP a case past its deadline may go up to

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("station") as batch:
        batch.add_column(sa.Column("subdivision_code", sa.String(64), nullable=True))


def downgrade() -> None:
    # Not a batch: on SQLite that copies the table, and the feedback rows that refer to
    # it forbid dropping the old one. Both databases drop a column in place.
    op.execute("ALTER TABLE station DROP COLUMN subdivision_code")
