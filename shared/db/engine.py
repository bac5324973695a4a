"""Async engine and session factory; each service lives in its own PostgreSQL schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import ServiceSettings

# Connections older than this are replaced at checkout, so one that a firewall, NAT or proxy
# dropped without a word (no FIN, nothing for the driver to notice) is not kept for ever.
POOL_RECYCLE_S = 1800

# Stable constraint names keep Alembic autogenerate diffs quiet.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def schema_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def _replace_closed_connection(
    dbapi_connection: Any, connection_record: Any, connection_proxy: Any
) -> None:
    """Refuse a pooled connection the server has already closed, at no round trip.

    When PostgreSQL restarts, crashes or ends a backend it closes the socket, and asyncpg marks
    the connection closed as soon as the event loop reads the end of stream. The pool then opens
    a fresh connection for this checkout (DisconnectionError is its signal to), where a
    ``SELECT 1`` pre-ping on every checkout would pay a round trip to learn the same thing.
    A connection lost mid-statement is invalidated by SQLAlchemy itself and the request is
    answered 503 (shared.errors.handlers); a connection dropped silently by the network fails
    its first statement the same way, and the invalidation renews the rest of the pool.
    """
    is_closed = getattr(connection_record.driver_connection, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def make_engine(settings: ServiceSettings, *, pool_size: int | None = None) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_recycle=POOL_RECYCLE_S,
        # A database error's message must not carry the statement's values into the logs: they
        # hold names, ID numbers and addresses.
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": settings.service_name}},
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq URL asyncpg wants, from a SQLAlchemy one."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
