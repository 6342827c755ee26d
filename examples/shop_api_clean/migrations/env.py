"""Alembic environment: migrations run against the app's own metadata."""

from alembic import context

from app.config import get_settings
from app.db import Base
from sqlalchemy import create_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = create_engine(get_settings().database_url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
