"""Preparing a database: create it, run every service's migrations, load reference data."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from intake_service.seed.loader import load_reference_data
from services.registry import SERVICES
from shared.db.engine import asyncpg_dsn
from shared.db.migrations import upgrade
from workflow_service.seed import load_reference_data as load_workflow_reference_data


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _create(url: str, name: str, *, fresh: bool) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        if fresh:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def create_database(server_url: str, name: str, *, fresh: bool = False) -> str:
    """Create ``name`` on the server of ``server_url`` if missing; returns its URL."""
    asyncio.run(_create(server_url, name, fresh=fresh))
    return with_database(server_url, name)


async def _drop(url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def drop_database(server_url: str, name: str) -> None:
    asyncio.run(_drop(server_url, name))


def migrate_all(database_url: str) -> None:
    for spec in SERVICES:
        upgrade(spec.package, database_url, spec.schema)


async def _seed(database_url: str) -> dict[str, int]:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            loaded = await load_reference_data(session)
            loaded.update(await load_workflow_reference_data(session))
            return loaded
    finally:
        await engine.dispose()


def prepare(database_url: str) -> dict[str, int]:
    """Migrations, then reference data if the tables are empty."""
    migrate_all(database_url)
    return asyncio.run(_seed(database_url))
