"""What a running service holds: engine, sessions, outbox, relay and consumers, started and
stopped together by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaClient
from fastapi import Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db.engine import make_engine, make_sessionmaker
from shared.http.commit import track
from shared.messaging.consumer import ConsumerRunner, Registered
from shared.messaging.outbox import Outbox
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import MessagingTables
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


# A loop a service runs beside relay and consumer, started as a task with the runtime.
Worker = Callable[["Runtime"], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    settings: ServiceSettings
    tables: MessagingTables
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    outbox: Outbox
    relay: OutboxRelay
    consumer: ConsumerRunner | None
    # Loops a service runs beside relay and consumer (workflow's deadline timers).
    workers: Sequence[Worker] = ()
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _kafka: AIOKafkaClient | None = None

    @classmethod
    def build(
        cls,
        settings: ServiceSettings,
        tables: MessagingTables,
        handlers: Callable[[Outbox], Mapping[str, Registered]] | None = None,
        topics: Iterable[str] = (),
        workers: Sequence[Worker] = (),
    ) -> Runtime:
        """``handlers`` is given the service's outbox, so the events a handler causes are written
        in the same transaction that applies the event it consumed."""
        engine = make_engine(settings)
        sessionmaker = make_sessionmaker(engine)
        outbox = Outbox(
            tables, source=f"/motcua/{settings.service_name}", namespace=settings.topic_namespace
        )
        consumer = None
        if handlers:
            consumer = ConsumerRunner(
                settings,
                sessionmaker,
                tables,
                f"{settings.topic_namespace}motcua.{settings.service_name}",
                handlers(outbox),
                [settings.topic_namespace + t for t in topics],
            )
        return cls(
            settings=settings,
            tables=tables,
            engine=engine,
            sessionmaker=sessionmaker,
            outbox=outbox,
            relay=OutboxRelay(settings, tables),
            consumer=consumer,
            workers=workers,
        )

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.consumer is not None and self.settings.consumers_enabled:
            self._tasks.append(asyncio.create_task(self.consumer.run(), name="consumer"))
        for worker in self.workers:
            self._tasks.append(
                asyncio.create_task(worker(self), name=getattr(worker, "__name__", "worker"))
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._kafka is not None:
            with contextlib.suppress(Exception):
                await self._kafka.close()
        await self.engine.dispose()

    async def check_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_consumer(self) -> None:
        """Ready once the consumer has joined its group at least once: a service that has never
        received its partitions would accept work it cannot yet react to."""
        if (
            self.consumer is not None
            and self.settings.consumers_enabled
            and not self.consumer.has_joined
        ):
            raise RuntimeError("consumer has not joined its group yet")

    async def check_broker(self) -> None:
        if self._kafka is None:
            client = AIOKafkaClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
            try:
                await client.bootstrap()
            except Exception:
                await client.close()
                raise
            self._kafka = client
        try:
            await self._kafka.fetch_all_metadata()
        except Exception:
            client, self._kafka = self._kafka, None
            with contextlib.suppress(Exception):
                await client.close()
            raise


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request. The route class (:class:`shared.http.commit.CommitRoute`) commits
    it before the response is sent; closing it here rolls back whatever was not committed."""
    async with runtime_of(request).sessionmaker() as session:
        track(request, session)
        yield session
