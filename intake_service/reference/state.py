"""What the submission path holds per process: a plain asyncpg pool, the cached reference data
and calendars, and the catalogue listener that keeps them fresh.

The pool is the hot path's own, beside the ORM engine's: a submission is one statement sent in
autocommit (its own transaction, no BEGIN and COMMIT round trips), prepared once per connection
by asyncpg, with no liveness ping on checkout; a dead connection fails its one statement and is
replaced by the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
import structlog
from asyncpg.exceptions import _base as asyncpg_base
from fastapi import Depends, Request

from intake_service.calendar.service import CalendarCache
from intake_service.reference.cache import ReferenceCache
from intake_service.reference.listener import listen
from intake_service.settings import IntakeSettings
from shared.db.engine import asyncpg_dsn
from shared.errors.handlers import database_unavailable
from shared.events import topics
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

# What a statement raises when its connection broke under it, rather than of the statement.
_BROKEN_CONNECTION = (
    asyncpg.InterfaceError,
    asyncpg_base.InternalClientError,
    asyncpg.PostgresConnectionError,
    ConnectionError,
)


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (a round trip per checkout): the hot path sets no
    session state, takes no advisory lock and listens to nothing; a transaction left open by a
    cancelled statement is rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class Reference:
    def __init__(self, settings: IntakeSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self.cache = ReferenceCache(self.pool, ttl=settings.reference_cache_ttl_s)
        self._calendar: CalendarCache | None = None

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        asyncpg_dsn(self.settings.database_url),
                        min_size=1,
                        max_size=self.settings.hot_pool_size,
                        reset=_keep_session_state,
                        server_settings={"application_name": f"{self.settings.service_name}-hot"},
                    )
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the hot path's pool for one statement or two.

        A connection that failed under a statement as PostgreSQL went away can be left by the
        driver neither closed nor usable (its next statement fails with "another operation is
        in progress"): it is terminated rather than handed back, and the request answers the
        503 of an unavailable database instead of a 500. The pool opens a fresh one."""
        pool = await self.pool()
        async with pool.acquire() as conn:
            try:
                yield conn
            except _BROKEN_CONNECTION as exc:
                conn.terminate()
                log.warning("hot-path connection broken; replaced", error=type(exc).__name__)
                raise database_unavailable() from exc

    def calendar(self, runtime: Runtime) -> CalendarCache:
        if self._calendar is None:
            self._calendar = CalendarCache(
                runtime.sessionmaker, runtime.outbox, ttl=self.settings.calendar_cache_ttl_s
            )
        return self._calendar

    def invalidate(self) -> None:
        """Drop every cached unit, procedure and calendar (a catalogue event was heard)."""
        self.cache.invalidate()
        if self._calendar is not None:
            self._calendar.invalidate()

    async def run(self, runtime: Runtime) -> None:
        """The runtime's worker: listens until the service stops, then closes the pool."""
        try:
            await listen(
                self.settings.kafka_bootstrap_servers,
                self.settings.topic_namespace + topics.CATALOGUE,
                [self.invalidate],
            )
        finally:
            if self._pool is not None:
                with contextlib.suppress(Exception):
                    await self._pool.close()
                self._pool = None


async def reference_of(request: Request) -> Reference:
    reference: Reference = request.app.state.reference
    return reference


ReferenceDep = Annotated[Reference, Depends(reference_of)]
