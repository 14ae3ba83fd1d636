"""Alembic environment: the engine comes from Prayas, never from an alembic.ini.

One transaction per migration: a migration that must run outside one (PostgreSQL's
CREATE INDEX CONCURRENTLY, which lets citizens write meanwhile) commits what came
before it, and says so in its own file.
"""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
