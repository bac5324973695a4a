"""Alembic wiring shared by the services: each has its own history and its own version table
inside its own schema, so the four histories never meet."""

from __future__ import annotations

import asyncio

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(package: str, database_url: str, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}.db:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url)
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(package: str, database_url: str, schema: str, revision: str = "head") -> None:
    """Run a service's migrations. Synchronous: call it from a thread when a loop is running."""
    command.upgrade(alembic_config(package, database_url, schema), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``env.py``."""
    schema = target_metadata.schema or "public"
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic config has no sqlalchemy.url")

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            # Compare against this service's schema only: the others belong to other services.
            include_schemas=True,
            include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            # Serialise concurrent upgrades (several pods starting at once) on this schema.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": schema})
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, version_table_schema=schema)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run())
