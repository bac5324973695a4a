"""The outbox relay: publishes committed events in order, then marks them published.

One relay per service is active at a time (a PostgreSQL advisory lock), so per-key order holds.
It is woken by LISTEN/NOTIFY and polls as a fallback. Publishing is at-least-once; consumers'
inboxes absorb the duplicates that a crash between send and mark can cause. Marking is deferred:
the relay remembers what it sent and marks it every ``relay_mark_interval_s`` (or when it runs out
of work), so a busy relay commits one write a fraction of a second rather than one per batch; a
crash in between publishes those events again, which the inboxes absorb like any duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from typing import cast

import asyncpg
import orjson
import structlog
from aiokafka import AIOKafkaProducer

from shared.db.engine import asyncpg_dsn
from shared.events.topics import ALL_TOPICS
from shared.messaging.admin import ensure_topics, epoch_topic
from shared.messaging.tables import MessagingTables
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(self, settings: ServiceSettings, tables: MessagingTables) -> None:
        self._settings = settings
        self._tables = tables
        self._schema = tables.schema
        self._lock_key = zlib.crc32(f"motcua.outbox.{self._schema}".encode())
        self._wake = asyncio.Event()
        self.published_total = 0
        self.is_leader = False
        self._next_prune = 0.0
        # Sent and acknowledged by the broker, not yet marked published in the table.
        self._unmarked: list[int] = []
        self._mark_due = 0.0

    async def run(self) -> None:
        """Run until cancelled, reconnecting after any failure of database or broker."""
        backoff = 0.5
        while True:
            try:
                await self._run_once()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the relay must outlive outages of either side
                self.is_leader = False
                log.warning("outbox relay interrupted", error=repr(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _run_once(self) -> None:
        # What an earlier connection sent but did not mark is sent again: at least once.
        self._unmarked = []
        conn: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(self._settings.database_url))
        producer: AIOKafkaProducer | None = None
        try:
            # Standby relays poll for the lock: PostgreSQL cannot notify its release.
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key):  # noqa: ASYNC110
                await asyncio.sleep(self._settings.relay_poll_interval_s)
            self.is_leader = True
            await conn.add_listener(self._tables.notify_channel, lambda *_: self._wake.set())
            producer = AIOKafkaProducer(
                bootstrap_servers=self._settings.kafka_bootstrap_servers,
                acks="all",
                enable_idempotence=False,
                linger_ms=5,
                request_timeout_ms=15_000,
            )
            await producer.start()
            await self._check_epoch(conn, producer)
            loop = asyncio.get_running_loop()
            next_epoch_check = loop.time() + self._settings.relay_epoch_check_interval_s
            linger = self._settings.relay_linger_ms / 1000
            while True:
                # Cleared before reading, not after: a commit notified while a batch is being
                # published wakes the next round at once instead of waiting for the poll.
                self._wake.clear()
                sent = await self._publish_batch(conn, producer)
                if loop.time() >= next_epoch_check:
                    await self._check_epoch(conn, producer)
                    next_epoch_check = loop.time() + self._settings.relay_epoch_check_interval_s
                if sent >= self._settings.relay_batch_size:
                    continue
                if not self._wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), self._settings.relay_poll_interval_s
                        )
                if linger:
                    # Under load a commit is followed within milliseconds by others: letting
                    # them land makes one read, one send and one mark carry them all, instead
                    # of a round per commit.
                    await asyncio.sleep(linger)
        finally:
            self.is_leader = False
            # A stop (a deploy, Ctrl-C) marks what was sent, best effort and briefly: only a
            # crash, or a connection already broken, leaves it to be published again.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._mark(conn), 2)
            if producer is not None:
                with contextlib.suppress(Exception):
                    await producer.stop()
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        rows = await conn.fetch(
            f"SELECT id, topic, key, headers, payload FROM {self._schema}.outbox "
            "WHERE published_at IS NULL AND id <> ALL($2::bigint[]) ORDER BY id LIMIT $1",
            self._settings.relay_batch_size,
            self._unmarked,
        )
        now = asyncio.get_running_loop().time()
        if not rows:
            await self._mark(conn)  # out of work: nothing is left unmarked while idle
            return 0
        futures = []
        for row in rows:
            headers = [(k, str(v).encode()) for k, v in _json(row["headers"]).items()]
            futures.append(
                await producer.send(
                    row["topic"], value=row["payload"], key=row["key"].encode(), headers=headers
                )
            )
        await asyncio.gather(*futures)
        if not self._unmarked:
            self._mark_due = now + self._settings.relay_mark_interval_s
        self._unmarked.extend(row["id"] for row in rows)
        if now >= self._mark_due or len(self._unmarked) >= self._settings.relay_batch_size:
            await self._mark(conn)
        self.published_total += len(rows)
        return len(rows)

    async def _mark(self, conn: asyncpg.Connection) -> None:
        if self._unmarked:
            await conn.execute(
                f"UPDATE {self._schema}.outbox SET published_at = now() "
                "WHERE id = ANY($1::bigint[])",
                self._unmarked,
            )
            self._unmarked = []

    async def _check_epoch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> None:
        ns = self._settings.topic_namespace
        marker = ns + epoch_topic(self._schema)
        metadata = await producer.client.fetch_all_metadata()
        if marker in metadata.topics():
            await self._prune(conn)
            return
        created = await ensure_topics(self._settings, [*(ns + t for t in ALL_TOPICS), marker])
        if marker in created:
            # A broker without our marker has never seen, or has forgotten, what we published.
            self._unmarked = []
            status = await conn.execute(
                f"UPDATE {self._schema}.outbox SET published_at = NULL "
                "WHERE published_at IS NOT NULL"
            )
            count = int(status.split()[-1])
            if count:
                log.warning("broker has no record of earlier events; republishing", events=count)

    async def _prune(self, conn: asyncpg.Connection) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_prune:
            return
        self._next_prune = now + 600
        await conn.execute(
            f"DELETE FROM {self._schema}.outbox WHERE published_at < now() - make_interval(days => $1)",
            self._settings.outbox_retention_days,
        )


def _json(value: object) -> dict[str, object]:
    if isinstance(value, str):
        return orjson.loads(value)
    # Not text: already decoded.
    return cast(dict[str, object], value)
