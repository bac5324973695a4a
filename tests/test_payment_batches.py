"""Payment takes a run of dossier receipts at once, against the real database: the dossiers it
remembers, the requests it raises and the events it writes to its outbox are those that applying
the same events one by one gives, duplicates and re-publications included, and a run costs the
same few statements however many receipts it holds.

The receipts name dossiers no other service knows, so the tests work in a database of their own
with payment's migrations: nothing they write to the outbox reaches the suite's services."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from payment_service.db.models import MESSAGING, Dossier, PaymentRequest
from payment_service.events.handlers import make_handlers
from services.stack import Infrastructure
from shared.events import (
    DossierReceived,
    DossierWithdrawn,
    Event,
    FeeRequested,
    PaymentRequested,
)
from shared.events.dossiers import FeeLine
from shared.events.envelope import Envelope, wrap
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.outbox import Outbox
from tests.batch_support import StatementCount, engine_on, items, runner_on
from tests.support import own_service_database
from tests.test_metrics_batches import at

PATH = "01.00070"


@pytest.fixture(scope="module")
def payment_database(infra: Infrastructure) -> Iterator[str]:
    with own_service_database(infra.server_url, "payment_service", "payment") as url:
        yield url


@pytest.fixture
async def engine(payment_database: str) -> AsyncIterator[AsyncEngine]:
    async with engine_on(payment_database, "paybatch") as engine:
        yield engine


@pytest.fixture
def runner(payment_database: str, engine: AsyncEngine) -> ConsumerRunner:
    handlers = make_handlers(Outbox(MESSAGING, source="/motcua/payment"))
    return runner_on(payment_database, engine, "paybatch", MESSAGING, handlers)


class World:
    """Dossiers of their own, and the receipts (and a withdrawal) told about them."""

    def __init__(self, size: int) -> None:
        self.dossiers = [uuid.uuid4() for _ in range(size)]

    def received(self, n: int) -> DossierReceived:
        fee = 0 if n % 3 == 0 else 20000 + 5000 * (n % 2)
        return DossierReceived(
            dossier_id=self.dossiers[n],
            dossier_code=f"00070-261102-{n:04d}",
            procedure_code="1.004222",
            procedure_name="Đăng ký thường trú",
            unit_code="00070",
            unit_path=PATH,
            channel="online" if n % 2 else "direct",  # type: ignore[arg-type]
            received_at=at(2, 8 + n % 9),
            appointment_at=at(12, 17),
            processing_working_days=7,
            fee_amount_vnd=fee,
            applicant_name="Nguyễn Thị Lan",
            # An older producer sends the total only: one line carries it.
            fee_lines=[FeeLine(code="LP-01", kind="charge", name="Lệ phí", amount_vnd=fee)]
            if n % 4
            else [],
        )

    def withdrawn(self, n: int) -> DossierWithdrawn:
        return DossierWithdrawn(
            dossier_id=self.dossiers[n],
            dossier_code=f"00070-261102-{n:04d}",
            procedure_code="1.004222",
            unit_code="00070",
            unit_path=PATH,
            channel="online",  # type: ignore[arg-type]
            at=at(3, 10),
            actor="cb.tiepnhan.00070",
            reason="Công dân rút hồ sơ",
            was_received=True,
        )

    def envelopes(self) -> tuple[list[Envelope], list[Envelope]]:
        """What an earlier poll applied (dossier 1's receipt), and a poll to apply now: receipts
        of every dossier, some re-published (a new id), one delivered twice, and a withdrawal
        between two runs of receipts."""
        r = [envelope(self.received(n)) for n in range(len(self.dossiers))]
        before = [envelope(self.received(1))]
        now = [r[0], r[1], r[2], envelope(self.received(1)), r[3], r[3], r[4], r[5]]
        now += [envelope(self.withdrawn(5)), *r[6:], envelope(self.received(2))]
        return before, now


def envelope(e: Event) -> Envelope:
    return wrap(e, source="/motcua/intake", subject=getattr(e, "dossier_code", None))


async def snapshot(engine: AsyncEngine, world: World, envelopes: Sequence[Envelope]) -> Any:
    """The world's state with its own ids replaced by positions, so two worlds compare."""
    index = {d: n for n, d in enumerate(world.dossiers)}
    position = {env.id: n for n, env in enumerate(envelopes)}
    dossiers_t, requests_t, outbox_t = Dossier.__table__, PaymentRequest.__table__, MESSAGING.outbox
    ids = list(world.dossiers)
    async with engine.connect() as conn:
        dossiers = (
            await conn.execute(select(dossiers_t).where(dossiers_t.c.id.in_(ids)))
        ).mappings()
        remembered = sorted(
            (index[r["id"]], r["code"], r["channel"], r["closed_reason"], r["updated_at"])
            for r in dossiers
        )
        requests = (
            await conn.execute(select(requests_t).where(requests_t.c.dossier_id.in_(ids)))
        ).mappings()
        raised = sorted(
            (
                index[r["dossier_id"]],
                r["purpose"],
                r["amount_vnd"],
                json.dumps(r["lines"]),
                r["status"],
                r["agency_code"],
                r["created_at"],
                position[r["source_event_id"]],
            )
            for r in requests
        )
        outbox = (
            await conn.execute(
                select(outbox_t)
                .where(outbox_t.c.key.in_([str(d) for d in ids]))
                .order_by(outbox_t.c.id)
            )
        ).mappings()
        published = [
            (r["event_type"], index[uuid.UUID(r["key"])], _without_ids(json.loads(r["payload"])))
            for r in outbox
        ]
    return remembered, raised, published


def _without_ids(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if not k.endswith("_id")}


async def test_a_run_of_receipts_leaves_what_one_by_one_application_leaves(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    batched, single = World(9), World(9)
    before_b, now_b = batched.envelopes()
    before_s, now_s = single.envelopes()
    await runner.apply_many(items(runner, before_b))
    await runner.apply_many(items(runner, before_s))

    applied = await runner.apply_many(items(runner, now_b))
    assert applied == len(now_b) - 1  # the envelope delivered twice applies once
    for env in now_s:
        await runner.apply(env, runner.handler_for(env.type))  # type: ignore[arg-type]

    state = await snapshot(engine, batched, before_b + now_b)
    assert state == await snapshot(engine, single, before_s + now_s)
    remembered, raised, published = state
    # Every dossier remembered once; one fee request per dossier that owes one, raised by the
    # first receipt that told of it; dossier 5's cancelled by its withdrawal.
    assert [r[0] for r in remembered] == list(range(9))
    assert [(r[0], r[4]) for r in raised] == [
        (n, "cancelled" if n == 5 else "open") for n in range(9) if n % 3
    ]
    assert [r[7] for r in raised] == [0, 3, 7, 8, 11, 12]
    requested = (PaymentRequested.event_type, FeeRequested.event_type)
    assert [(t, n) for t, n, _ in published if t in requested] == [
        (t, n) for n in range(9) if n % 3 for t in requested
    ]


async def test_a_run_of_receipts_costs_the_same_few_statements_however_long(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    costs = []
    for size in (10, 100, 200):
        world = World(size)
        envelopes = [envelope(world.received(n)) for n in range(size)]
        with StatementCount(engine) as count:
            assert await runner.apply_many(items(runner, envelopes)) == size
        costs.append(len(count.statements))
    # The inbox, the dossiers, the requests, the outbox.
    assert costs == [4, 4, 4]
