"""The outbox relay against the real database and broker: every committed event is published
once, in order per key, while the relay defers marking what it sent; the marks land once it runs
out of work; and a record of a type the consumer does not handle is skipped by its header alone,
however broken its body, while a broken record of a handled type goes to the dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.stack import Infrastructure
from shared.db.engine import asyncpg_dsn, make_engine, make_sessionmaker
from shared.events import AgencyChanged, Envelope
from shared.events import topics as event_topics
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.outbox import Outbox
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables, notify_trigger_sql
from shared.settings import ServiceSettings
from shared.vocabulary import AgencyKind
from tests.support import eventually


@pytest.fixture
async def relay_world(
    database_url: str, infra: Infrastructure
) -> AsyncIterator[tuple[ServiceSettings, Outbox, str]]:
    schema = f"flowrelay_{uuid.uuid4().hex[:8]}"
    tables = messaging_tables(MetaData(schema=schema))
    settings = ServiceSettings(
        database_url=database_url,
        kafka_bootstrap_servers=infra.bootstrap_servers,
        topic_namespace=f"{schema}.",
        service_name=schema,
        relay_mark_interval_s=60.0,  # marks only when out of work, within this test
    )
    engine = make_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(tables.outbox.metadata.create_all)
        for ddl in notify_trigger_sql(schema):
            await conn.execute(text(ddl))
    relay = OutboxRelay(settings, tables)
    task = asyncio.create_task(relay.run())
    outbox = Outbox(tables, source="/motcua/test", namespace=settings.topic_namespace)
    try:
        yield settings, outbox, schema
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await engine.dispose()


def agency(code: str, name: str) -> AgencyChanged:
    return AgencyChanged(
        agency_code=code, name=name, kind=AgencyKind.department, unit_code="01", unit_path="01"
    )


async def unpublished(settings: ServiceSettings, schema: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        return int(
            await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
        )
    finally:
        await conn.close()


async def test_every_event_is_published_once_in_order_and_marked_when_the_relay_is_idle(
    relay_world: tuple[ServiceSettings, Outbox, str],
) -> None:
    settings, outbox, schema = relay_world
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    topic = settings.topic_namespace + event_topics.CATALOGUE
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{schema}.reader",
        auto_offset_reset="earliest",
    )
    sent: list[tuple[str, str]] = []
    try:
        # Several transactions while the relay publishes: what it sent but has not marked yet
        # must not be read and sent again.
        for round_ in range(6):
            async with sessions() as session, session.begin():
                envs = await outbox.add_all(
                    session,
                    [(agency(f"A{n % 3}", f"r{round_}-{n}"), None) for n in range(10)],
                )
                sent.extend((env.key, env.id) for env in envs)
            await asyncio.sleep(0.05)
        await consumer.start()
        seen: list[tuple[str, str]] = []
        async with asyncio.timeout(20):
            while len(seen) < len(sent):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        ce_id = dict(r.headers)["ce_id"].decode()
                        seen.append((r.key.decode(), ce_id))
        # A while longer: nothing comes twice.
        extra = await consumer.getmany(timeout_ms=1500)
        assert sum(len(v) for v in extra.values()) == 0
        assert sorted(seen) == sorted(sent)
        for key in {k for k, _ in sent}:
            assert [i for k, i in seen if k == key] == [i for k, i in sent if k == key]

        # Out of work, the relay has marked everything it sent.
        async def all_marked() -> bool:
            return await unpublished(settings, schema) == 0

        await eventually(all_marked, timeout=10, interval=0.2)
    finally:
        await consumer.stop()
        await engine.dispose()


async def test_an_unhandled_type_is_skipped_by_its_header_and_a_broken_handled_one_dead_lettered(
    relay_world: tuple[ServiceSettings, Outbox, str],
) -> None:
    settings, _outbox, schema = relay_world
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    tables = messaging_tables(MetaData(schema=schema))
    applied: list[Envelope] = []

    async def on_agency(_session: AsyncSession, env: Envelope) -> None:
        applied.append(env)

    runner = ConsumerRunner(
        settings, sessions, tables, f"{schema}.group", {AgencyChanged.event_type: on_agency}, []
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    topic = settings.topic_namespace + event_topics.CATALOGUE
    good = agency("B1", "ok")

    def headers(ce_type: str, ce_id: str) -> list[tuple[str, bytes]]:
        return [
            ("ce_id", ce_id.encode()),
            ("ce_type", ce_type.encode()),
            ("ce_source", b"/motcua/test"),
            ("ce_specversion", b"1.0"),
        ]

    try:
        records = []
        for ce_type, value in (
            ("vn.motcua.someone_elses.v1", b"\xff not json"),
            (AgencyChanged.event_type, b"{ broken"),
            (AgencyChanged.event_type, good.model_dump_json().encode()),
        ):
            meta = await producer.send_and_wait(
                topic, value=value, key=b"k", headers=headers(ce_type, str(uuid.uuid4()))
            )
            records.append((meta, ce_type, value))
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=f"{schema}.raw",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            got = []
            async with asyncio.timeout(10):
                while len(got) < 3:
                    for rs in (await consumer.getmany(timeout_ms=500)).values():
                        got.extend(rs)
        finally:
            await consumer.stop()
        await runner._process(got, producer)
        assert [env.data for env in applied] == [good]
        async with engine.connect() as conn:
            dead = (
                await conn.execute(text(f"SELECT event_type, value FROM {schema}.dead_letters"))
            ).all()
        assert [(t, bytes(v)) for t, v in dead] == [(AgencyChanged.event_type, b"{ broken")]
    finally:
        await producer.stop()
        await engine.dispose()
