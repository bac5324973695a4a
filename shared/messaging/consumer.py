"""Consumer runner: apply what a poll returned, and record it in the inbox, in one transaction;
commit the offsets to the broker about once a second (and whenever the consumer goes idle).

A handler takes one event (:data:`Handler`) or, wrapped in :class:`Batched`, every consecutive
event of its type in the poll at once, so it can write them with set-based statements (one bulk
insert for a hundred cases, one upsert of a batch's counter deltas) instead of one round trip per
event. A redelivered event finds its id in the inbox and is skipped. A handler that keeps failing is
retried with backoff a bounded number of times; then the record goes to ``<group>.dlq`` with its
error, is kept in ``dead_letters`` for ops to replay, and consumption goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from sqlalchemy import Text, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import Envelope, MalformedEvent, UnknownEventType, decode, event_type
from shared.events.topics import dead_letter_topic
from shared.messaging.admin import ensure_topics
from shared.messaging.tables import MessagingTables
from shared.observability import event_id_var
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]


@dataclass(frozen=True)
class Batched:
    """A handler that applies a run of events at once: the runner hands it every consecutive new
    event (in partition order) of the types it is registered for, never one the inbox already
    holds, and a run of one when a failing batch is retried event by event to isolate the event
    that fails. It must give the same state as applying the events one after another."""

    apply: BatchHandler


Registered = Handler | Batched


class ConsumerRunner:
    def __init__(
        self,
        settings: ServiceSettings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        group_id: str,
        handlers: Mapping[str, Registered],
        topics: Iterable[str],
    ) -> None:
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._tables = tables
        self.group_id = group_id
        self._handlers = dict(handlers)
        self._record_inbox = text(
            f"INSERT INTO {tables.schema}.inbox (event_id, event_type, topic) "
            "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), "
            "CAST(:topics AS text[])) ON CONFLICT DO NOTHING RETURNING event_id"
        ).columns(event_id=Text)
        self._topics = tuple(dict.fromkeys(topics))
        self.applied_total = 0
        self.dead_lettered_total = 0
        self.running = False
        self.has_joined = False

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep consuming through broker or database outages
                self.running = False
                log.warning(
                    "consumer interrupted", group=self.group_id, error=repr(exc), retry_in=backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _run_once(self) -> None:
        bootstrap = self._settings.kafka_bootstrap_servers
        await ensure_topics(self._settings, self._topics)
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            # Earliest, never latest: a new group, or offsets lost with a restarted broker, must
            # read everything again; the inbox makes that harmless.
            auto_offset_reset="earliest",
            max_poll_records=self._settings.consumer_batch_size,
            session_timeout_ms=self._settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=self._settings.consumer_heartbeat_interval_ms,
        )
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await consumer.start()
        await producer.start()
        self.running = True
        linger = self._settings.consumer_linger_ms / 1000
        loop = asyncio.get_running_loop()
        # Offsets applied but not yet committed to the broker, by partition.
        pending: dict[TopicPartition, int] = {}
        commit_due = 0.0
        try:
            while True:
                batches = await consumer.getmany(
                    timeout_ms=1000, max_records=self._settings.consumer_batch_size
                )
                self.has_joined = self.has_joined or bool(consumer.assignment())
                if not batches:
                    await _commit(consumer, pending)  # idle: nothing is left uncommitted
                    continue
                records = [r for rs in batches.values() for r in rs]
                # Every partition's records in one transaction: order holds within each
                # partition (the only order there is), and a poll costs one commit, not one per
                # partition.
                dead_before = self.dead_lettered_total
                await self._process(records, producer)
                if not pending:
                    commit_due = loop.time() + self._settings.consumer_commit_interval_s
                pending.update({tp: rs[-1].offset + 1 for tp, rs in batches.items()})
                if loop.time() >= commit_due or self.dead_lettered_total != dead_before:
                    # Not after every poll: what the broker has not been told is read again
                    # after a restart or a rebalance, and the inbox skips it. At once after a
                    # dead letter, though: the DLQ topic has no inbox, and a record read again
                    # would be dead-lettered there twice.
                    await _commit(consumer, pending)
                if linger and len(records) < self._settings.consumer_batch_size:
                    # A short poll under load means the next events are a few milliseconds
                    # away: waiting for them lets one transaction carry many instead of one
                    # transaction per event. An idle consumer still wakes at once for the
                    # first event, so a quiet system pays no latency. (Not fetch_min_bytes: the
                    # bundled broker spins while it holds a fetch for more bytes, at several
                    # times the CPU of fetches answered at once.)
                    await asyncio.sleep(linger)
        finally:
            self.running = False
            with contextlib.suppress(Exception):
                await _commit(consumer, pending)
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _process(self, records: list[ConsumerRecord], producer: AIOKafkaProducer) -> None:
        """Apply a poll's records (every partition's, each in its order) in one transaction; if
        any event fails, fall back to one transaction per event, so only the failing one is
        retried and, at last, dead-lettered."""
        pending: list[tuple[ConsumerRecord, Envelope, Registered]] = []
        for record in records:
            # Every service reads whole topics but handles a few of their types: the type
            # header alone tells which records to skip, before anything is parsed.
            # A record without the header goes on to decode, which dead-letters it.
            declared = event_type(record.headers)
            if declared is not None and declared not in self._handlers:
                continue  # a type this service does not consume (or a newer one): not an error
            try:
                env = decode(record.key, record.value, record.headers, record.topic)
            except UnknownEventType:
                continue
            except MalformedEvent as exc:
                await self._dead_letter(record, producer, None, str(exc), attempts=1)
                continue
            handler = self._handlers.get(env.type)
            if handler is not None:
                pending.append((record, env, handler))
        if len(pending) > 1:
            try:
                self.applied_total += await self.apply_many([(e, h) for _, e, h in pending])
                return
            except Exception as exc:
                log.warning("batch failed; applying events one by one", error=repr(exc))
        for record, env, handler in pending:
            token = event_id_var.set(env.id)
            try:
                with structlog.contextvars.bound_contextvars(event_id=env.id, event_type=env.type):
                    await self._apply_with_retries(record, producer, env, handler)
            finally:
                event_id_var.reset(token)

    async def _apply_with_retries(
        self, record: ConsumerRecord, producer: AIOKafkaProducer, env: Envelope, handler: Registered
    ) -> None:
        delay = self._settings.consumer_backoff_initial_s
        attempts = self._settings.consumer_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                if await self.apply(env, handler):
                    self.applied_total += 1
                return
            except Exception as exc:
                if attempt == attempts:
                    log.error("event failed; dead-lettering", attempts=attempt, error=repr(exc))
                    await self._dead_letter(record, producer, env, repr(exc), attempts=attempt)
                    return
                log.warning("event failed; retrying", attempt=attempt, error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._settings.consumer_backoff_max_s)

    @property
    def event_types(self) -> frozenset[str]:
        """The event types this consumer has a handler for."""
        return frozenset(self._handlers)

    def handler_for(self, event_type: str) -> Registered | None:
        return self._handlers.get(event_type)

    async def apply(self, env: Envelope, handler: Registered) -> bool:
        """Apply one event exactly once; False when the inbox shows it was applied before."""
        return await self.apply_many([(env, handler)]) == 1

    async def apply_many(self, items: list[tuple[Envelope, Registered]]) -> int:
        """Apply events in order in one transaction, skipping those the inbox already holds."""
        async with self._sessionmaker() as session, session.begin():
            # One statement records the whole batch; what it returns is what was new. The rows
            # travel as three arrays, so the statement is the same text for any batch size and
            # is compiled and prepared once.
            new_ids = set(
                await session.scalars(
                    self._record_inbox,
                    {
                        "ids": [e.id for e, _ in items],
                        "types": [e.type for e, _ in items],
                        "topics": [e.topic for e, _ in items],
                    },
                )
            )
            fresh: list[tuple[Envelope, Registered]] = []
            for env, handler in items:
                if env.id in new_ids:
                    new_ids.discard(env.id)  # the same event twice in one batch applies once
                    fresh.append((env, handler))
            for handler, run in _runs(fresh):
                if isinstance(handler, Batched):
                    await handler.apply(session, run)
                else:
                    for env in run:
                        await handler(session, env)
        return len(fresh)

    async def _dead_letter(
        self,
        record: ConsumerRecord,
        producer: AIOKafkaProducer,
        env: Envelope | None,
        error: str,
        attempts: int,
    ) -> None:
        headers = {name: raw.decode(errors="replace") for name, raw in record.headers or ()}
        dlq = dead_letter_topic(self.group_id)
        await ensure_topics(self._settings, [dlq])
        await producer.send_and_wait(
            dlq,
            value=record.value,
            key=record.key,
            headers=[
                *(record.headers or ()),
                ("motcua_error", error.encode()[:4000]),
                ("motcua_origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ],
        )
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                pg_insert(self._tables.dead_letters)
                .values(
                    group_id=self.group_id,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key.decode(errors="replace") if record.key else None,
                    event_id=env.id if env else headers.get("ce_id"),
                    event_type=env.type if env else headers.get("ce_type"),
                    headers=headers,
                    value=record.value,
                    error=error[:4000],
                    attempts=attempts,
                )
                .on_conflict_do_nothing()
            )
        self.dead_lettered_total += 1


async def _commit(consumer: AIOKafkaConsumer, pending: dict[TopicPartition, int]) -> None:
    """Commit the offsets of the partitions still held. A partition a rebalance took away is
    left out: the broker refuses a commit that names one (and with it every other partition's
    offset), and its new owner reads on from the last commit anyway."""
    assigned = consumer.assignment()
    offsets = {tp: offset for tp, offset in pending.items() if tp in assigned}
    pending.clear()
    if not offsets:
        return
    with contextlib.suppress(CommitFailedError, IllegalStateError):
        # A rebalance took a partition away: the new owner re-reads from the last commit, and
        # the inbox skips what was already applied.
        await consumer.commit(offsets)


def _runs(
    items: list[tuple[Envelope, Registered]],
) -> list[tuple[Registered, list[Envelope]]]:
    """Consecutive events with the same handler, in order: a batch handler sees each run whole,
    and events of other types between two runs keep their place between them."""
    runs: list[tuple[Registered, list[Envelope]]] = []
    for env, handler in items:
        if runs and runs[-1][0] is handler:
            runs[-1][1].append(env)
        else:
            runs.append((handler, [env]))
    return runs
