"""Kill a service mid-stream, stop the broker, feed a poison message: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services import database
from services.infra import EmbeddedBroker
from services.stack import Infrastructure, Stack, free_ports
from shared.db.engine import asyncpg_dsn
from shared.events import topics
from tests.conftest import TEST_DATA
from tests.support import HANOI, PIPELINE_WAIT_S, Tokens, dossier_body, eventually


async def submit_many(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], n: int, concurrency: int = 10
) -> list[dict]:
    results: list[dict] = []
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            queue.pop()
            r = await http.post(f"{url}/v1/dossiers", json=dossier_body(), headers=headers)
            assert r.status_code == 201, r.text
            results.append(r.json())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def case_counts(database_url: str, dossier_ids: list[str]) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT dossier_id::text AS id, count(*) AS n FROM workflow.cases "
            "WHERE dossier_id = ANY($1::uuid[]) GROUP BY dossier_id",
            dossier_ids,
        )
        return {r["id"]: r["n"] for r in rows}
    finally:
        await conn.close()


async def test_kill_9_workflow_during_200_submissions_leaves_exactly_one_case_each(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    officer = tokens.receptionist()
    submitting = asyncio.create_task(submit_many(http, stack.url("intake"), officer, 200))
    await asyncio.sleep(0.5)
    stack.kill("workflow")
    dossiers = await submitting
    assert len(dossiers) == 200
    await asyncio.to_thread(stack.restart, "workflow")
    ids = [d["id"] for d in dossiers]

    async def all_cased() -> dict[str, int] | None:
        counts = await case_counts(database_url, ids)
        return counts if len(counts) == len(ids) else None

    counts = await eventually(all_cased, interval=0.5)
    assert set(counts.values()) == {1}


async def test_poison_message_goes_to_dead_letters_and_consumption_goes_on(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, namespace: str, infra: Infrastructure
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers)
    await producer.start()
    poison_id = str(uuid.uuid4())
    try:
        await producer.send_and_wait(
            namespace + topics.DOSSIERS,
            key=b"poison",
            value=b'{"dossier_id": "not-a-uuid", "truncated',
            headers=[
                ("ce_id", poison_id.encode()),
                ("ce_type", b"vn.motcua.dossier.received.v1"),
                ("ce_source", b"/tests"),
                ("ce_specversion", b"1.0"),
            ],
        )
    finally:
        await producer.stop()

    # The next good dossier still flows.
    officer = tokens.receptionist()
    r = await http.post(f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=officer)
    dossier = r.json()

    async def case() -> list:
        res = await http.get(
            f"{stack.url('workflow')}/v1/cases",
            params={"dossier_id": dossier["id"]},
            headers=officer,
        )
        return res.json()["items"]

    await eventually(case)

    async def dead_letter() -> dict | None:
        res = await http.get(f"{stack.url('workflow')}/v1/ops/dead-letters", headers=tokens.ops())
        assert res.status_code == 200, res.text
        return next((d for d in res.json()["items"] if d["event_id"] == poison_id), None)

    letter = await eventually(dead_letter)
    assert "invalid" in letter["error"]
    assert letter["topic"] == namespace + topics.DOSSIERS

    # And it is on the group's DLQ topic, with the error beside it.
    consumer = AIOKafkaConsumer(
        f"{namespace}motcua.workflow.dlq",
        bootstrap_servers=infra.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"dlq-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    try:
        found = None
        deadline = asyncio.get_running_loop().time() + PIPELINE_WAIT_S
        while found is None and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for rec in records:
                    hdr = dict(rec.headers)
                    if hdr.get("ce_id") == poison_id.encode():
                        found = hdr
        assert found is not None and b"invalid" in found["motcua_error"]
    finally:
        await consumer.stop()

    # Replaying it cannot succeed (it is malformed), and says so without a 500.
    replay = await http.post(
        f"{stack.url('workflow')}/v1/ops/dead-letters/{letter['id']}/replay", headers=tokens.ops()
    )
    assert replay.status_code == 409
    assert replay.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
def outage_stack(infra: Infrastructure) -> Iterator[tuple[Stack, EmbeddedBroker, str]]:
    """A stack on a broker of its own, which the test may stop: the broker under test must be one
    we run, whatever the suite was configured with."""
    broker = EmbeddedBroker(log_path=TEST_DATA / "outage-broker.log")
    broker.start()
    name = f"motcua_outage_{uuid.uuid4().hex[:6]}"
    url = database.create_database(infra.server_url, name, fresh=True)
    database.prepare(url)
    stack = Stack(
        url,
        broker.bootstrap_servers,
        keys_dir=TEST_DATA / "keys",
        ports=free_ports(),
        log_dir=TEST_DATA / "logs-outage",
        extra_env={"TOPIC_NAMESPACE": "", "LOG_JSON": "true"},
    )
    try:
        stack.start()
        yield stack, broker, url
    finally:
        stack.stop()
        broker.stop()
        database.drop_database(infra.server_url, name)


async def test_broker_outage_loses_and_doubles_nothing(
    http: httpx.AsyncClient, outage_stack: tuple[Stack, EmbeddedBroker, str], tokens: Tokens
) -> None:
    stack, broker, url = outage_stack
    officer = tokens.receptionist()
    before = await submit_many(http, stack.url("intake"), officer, 20, concurrency=4)

    await asyncio.to_thread(broker.stop)
    during: list[dict] = []
    started = asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - started < 10:
        during += await submit_many(http, stack.url("intake"), officer, 5, concurrency=5)
        await asyncio.sleep(0.5)
    await asyncio.to_thread(broker.start)  # same port, and empty: the broker keeps nothing
    ids = [d["id"] for d in before + during]
    assert len(during) >= 20

    async def all_cased() -> dict[str, int] | None:
        counts = await case_counts(url, ids)
        return counts if len(counts) == len(ids) else None

    counts = await eventually(all_cased, timeout=60, interval=0.5)
    assert set(counts.values()) == {1}

    period = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%Y-%m")

    async def counted() -> dict | None:
        r = await http.get(
            f"{stack.url('metrics')}/v1/indicators/received",
            params={"unit_code": HANOI, "period": period},
            headers=tokens.province_officer(),
        )
        body = r.json()
        return body if body["received"] >= len(ids) else None

    # After the empty broker returns, every relay republishes and every group rejoins; on a
    # loaded machine metrics, which reads every topic, is the last to catch up.
    body = await eventually(counted, timeout=90, interval=0.5)

    async def all_requested() -> int | None:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            n = await conn.fetchval(
                "SELECT count(*) FROM payment.payment_requests WHERE dossier_id = ANY($1::uuid[])",
                ids,
            )
        finally:
            await conn.close()
        return n if n >= len(ids) else None

    await eventually(all_requested, timeout=60, interval=0.5)
    await asyncio.sleep(2)  # give any duplicate the chance to show up
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        received = await conn.fetchval(
            "SELECT value FROM metrics.counters WHERE unit_code = $1 AND period = $2 "
            "AND procedure_code = '*' AND channel = '*' AND metric = 'received'",
            HANOI,
            period,
        )
        fees = await conn.fetchval(
            "SELECT count(*) FROM payment.payment_requests WHERE dossier_id = ANY($1::uuid[])",
            ids,
        )
    finally:
        await conn.close()
    assert body["received"] == len(ids) == received
    assert fees == len(ids)

    async def all_in_processing() -> bool:
        c = await asyncpg.connect(asyncpg_dsn(url))
        try:
            rows = await c.fetch(
                "SELECT status, count(*) AS n FROM intake.dossiers GROUP BY status"
            )
        finally:
            await c.close()
        return {r["status"]: r["n"] for r in rows} == {"in_processing": len(ids)}

    # After the restart every consumer rejoins and workflow republishes its retained outbox;
    # on a loaded two-core machine that can take longer than the first half minute.
    await eventually(all_in_processing, timeout=90, interval=0.5)
