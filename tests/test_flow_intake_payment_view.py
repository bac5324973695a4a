# ruff: noqa: F811 (the fixtures imported from test_intake_batches are the parameters)
"""Intake takes a run of payment's events at once (the fee request's id and the payment view),
against the real database: the dossiers' payment columns are those that the one-event service
functions leave, applied one by one through the ORM, the version and the log do not move, and
a run costs the same few statements however long."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake_service.db.models import Dossier, DossierAction
from intake_service.dossiers import service as dossiers
from shared.events import (
    Event,
    FeeRequested,
    PaymentRequested,
    PaymentSucceeded,
    ReceiptIssued,
)
from shared.messaging.consumer import ConsumerRunner
from tests.batch_support import StatementCount, items
from tests.test_intake_batches import (  # noqa: F401 (fixtures)
    World,
    engine,
    envelope,
    intake_database,
    runner,
)
from tests.test_metrics_batches import at


class Payments:
    """One dossier's fee request, payment and receipt, with ids shared between worlds."""

    def __init__(self) -> None:
        self.fee_request = uuid.uuid4()
        self.request = uuid.uuid4()
        self.payment = uuid.uuid4()
        self.receipt = uuid.uuid4()

    def events(self, dossier: uuid.UUID, amount: int) -> list[Event]:
        code, path = f"T{dossier.hex[:12]}", "01.00070"
        return [
            FeeRequested(
                fee_request_id=self.fee_request,
                dossier_id=dossier,
                dossier_code=code,
                unit_path=path,
                amount_vnd=amount,
                requested_at=at(3),
            ),
            PaymentRequested(
                request_id=self.request,
                dossier_id=dossier,
                dossier_code=code,
                unit_path=path,
                purpose="fee",
                agency_code="H01",
                amount_vnd=amount,
                lines=[{"code": "LP", "kind": "fee", "name": "Lệ phí", "amount_vnd": amount}],
                requested_at=at(3),
            ),
            PaymentSucceeded(
                payment_id=self.payment,
                dossier_id=dossier,
                dossier_code=code,
                unit_path=path,
                purpose="fee",
                amount_vnd=amount,
                online=True,
                paid_at=at(4),
                request_id=self.request,
                method="vnpay",
            ),
            ReceiptIssued(
                receipt_id=self.receipt,
                payment_id=self.payment,
                dossier_id=dossier,
                dossier_code=code,
                unit_path=path,
                form_code="01BLP0-001",
                symbol="AB-26E",
                number=42,
                amount_vnd=amount,
                issued_at=at(4, 10),
            ),
        ]


def story(world: World, plans: list[Payments]) -> list[Event]:
    """Dossier 0 the whole way, its receipt before its payment; dossier 1 told its fee request
    and payment request twice; dossier 2 only requested; the runs interleaved."""
    zero = plans[0].events(world.dossiers[0], 50_000)
    one = plans[1].events(world.dossiers[1], 30_000)
    two = plans[2].events(world.dossiers[2], 10_000)
    return [
        zero[0],
        one[0],
        zero[1],
        one[1],
        two[0],
        zero[3],
        one[0],
        one[1],
        two[1],
        zero[2],
    ]


async def snapshot(engine: AsyncEngine, world: World) -> list[Any]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Dossier.id, Dossier.fee_request_id, Dossier.payments, Dossier.version)
            )
        ).all()
        logged = set(await conn.scalars(select(DossierAction.dossier_id)))
    by_id = {r.id: r for r in rows}
    return [
        (by_id[d].fee_request_id, by_id[d].payments, by_id[d].version, d in logged)
        for d in world.dossiers
    ]


async def test_a_run_of_payment_events_leaves_what_the_one_event_functions_leave(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    plans = [Payments() for _ in range(3)]
    batched, single = World(["received"] * 3, []), World(["received"] * 3, [])
    await batched.store(engine)
    await single.store(engine)

    poll = [envelope(e) for e in story(batched, plans)]
    assert await runner.apply_many(items(runner, poll)) == len(poll)
    for event in story(single, plans):
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            if isinstance(event, FeeRequested):
                await dossiers.fee_requested(session, event)
            else:
                assert isinstance(event, PaymentRequested | PaymentSucceeded | ReceiptIssued)
                await dossiers.payment_event(session, event, event.event_type)

    state = await snapshot(engine, batched)
    assert state == await snapshot(engine, single)
    assert [fee for fee, *_ in state] == [p.fee_request for p in plans]
    # Paying is no lifecycle step: no version moved, nothing logged.
    assert [(version, logged) for _, _, version, logged in state] == [(1, False)] * 3
    request = state[0][1]["requests"][str(plans[0].request)]
    assert request["paid_vnd"] == 50_000
    assert request["receipt"] is not None
    assert state[2][1]["requests"][str(plans[2].request)]["paid_vnd"] == 0


async def test_a_payment_event_for_an_unknown_dossier_fails_the_run_and_nothing_else(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    world = World(["received"], [])
    await world.store(engine)
    known = Payments().events(world.dossiers[0], 5_000)[0]
    stranger = Payments().events(uuid.uuid4(), 5_000)[0]
    poll = [envelope(known), envelope(stranger)]
    with pytest.raises(LookupError):
        await runner.apply_many(items(runner, poll))
    assert (await snapshot(engine, world))[0][0] is None
    assert await runner.apply(poll[0], runner.handler_for(poll[0].type))  # type: ignore[arg-type]
    assert (await snapshot(engine, world))[0][0] == known.fee_request_id  # type: ignore[attr-defined]


async def test_a_run_of_payment_events_costs_the_same_few_statements_however_long(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    costs = []
    for size in (5, 50, 100):
        world = World(["received"] * size, [])
        await world.store(engine)
        poll = [
            envelope(e)
            for n in range(size)
            for e in Payments().events(world.dossiers[n], 1_000 * n)[:2]
        ]
        with StatementCount(engine) as count:
            assert await runner.apply_many(items(runner, poll)) == len(poll)
        costs.append(len(count.statements))
    # The inbox, the dossiers read, their update.
    assert costs == [3, 3, 3]
