"""Intake takes a run of "case opened" events at once, against the real database: the dossiers'
statuses, versions, case ids and action logs are those that applying the same events one by one
leaves, with other handlers' events of the same dossiers between the runs, and a run costs the
same few statements however many cases it opens.

The dossiers are written straight into a database of the tests' own (intake's migrations and
reference data), so no other service ever hears of them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake_service.db.models import MESSAGING, Dossier, DossierAction, Procedure, Unit
from intake_service.events.handlers import HANDLERS
from intake_service.seed.loader import load_reference_data
from services.stack import Infrastructure
from shared.events import CaseApologised, CaseOpened, CaseResolved, Event
from shared.events.envelope import Envelope, wrap
from shared.messaging.consumer import ConsumerRunner
from tests.batch_support import StatementCount, engine_on, items, runner_on
from tests.support import own_service_database
from tests.test_metrics_batches import at


@pytest.fixture(scope="module")
def intake_database(infra: Infrastructure) -> Iterator[str]:
    with own_service_database(infra.server_url, "intake_service", "intake") as url:
        yield url


@pytest.fixture
async def engine(intake_database: str) -> AsyncIterator[AsyncEngine]:
    async with engine_on(intake_database, "intakebatch") as engine:
        async with AsyncSession(engine) as session, session.begin():
            if await session.scalar(select(Unit.code).limit(1)) is None:
                await load_reference_data(session)
        yield engine


@pytest.fixture
def runner(intake_database: str, engine: AsyncEngine) -> ConsumerRunner:
    return runner_on(intake_database, engine, "intakebatch", MESSAGING, HANDLERS)


class World:
    """Dossiers of their own in the given statuses; the case ids are shared between worlds, so
    two worlds told the same story compare."""

    def __init__(self, statuses: Sequence[str], case_ids: Sequence[uuid.UUID]) -> None:
        self.statuses = list(statuses)
        self.dossiers = [uuid.uuid4() for _ in statuses]
        self.case_ids = list(case_ids)

    async def store(self, engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session, session.begin():
            unit = (await session.execute(select(Unit.code, Unit.path).limit(1))).one()
            procedure = (await session.execute(select(Procedure.key, Procedure.version))).first()
            assert procedure is not None
            await session.execute(
                insert(Dossier),
                [
                    {
                        "id": dossier_id,
                        "code": f"T{dossier_id.hex[:12]}",
                        "procedure_key": procedure.key,
                        "procedure_version": procedure.version,
                        "unit_code": unit.code,
                        "unit_path": unit.path,
                        "channel": "direct",
                        "status": status,
                        "applicant": {"name": "Phạm Thị Hoa"},
                        "applicant_id_number": "001190000001",
                        "submitted_by": "cb.tiepnhan",
                        "received_at": None if status == "submitted" else at(2),
                        "appointment_at": at(12, 17),
                        "fee_amount_vnd": 0,
                        "version": 1,
                    }
                    for dossier_id, status in zip(self.dossiers, self.statuses, strict=True)
                ],
            )

    def opened(self, n: int, case: int | None = None) -> CaseOpened:
        return CaseOpened(
            case_id=self.case_ids[n if case is None else case],
            dossier_id=self.dossiers[n],
            dossier_code=f"T{self.dossiers[n].hex[:12]}",
            unit_path="01.00070",
            opened_at=at(3, 8 + n % 9),
            due_at=at(12, 17),
        )

    def resolved(self, n: int) -> CaseResolved:
        return CaseResolved(
            case_id=self.case_ids[n],
            dossier_id=self.dossiers[n],
            dossier_code=f"T{self.dossiers[n].hex[:12]}",
            unit_path="01.00070",
            outcome="approved",
            resolved_at=at(8, 15),
            due_at=at(12, 17),
            result_digitised=True,
        )

    def apologised(self, n: int) -> CaseApologised:
        return CaseApologised(
            case_id=self.case_ids[n],
            dossier_id=self.dossiers[n],
            dossier_code=f"T{self.dossiers[n].hex[:12]}",
            unit_path="01.00070",
            apology_id=uuid.uuid4(),
            agency_code=None,
            reason="Chờ kết quả xác minh của cơ quan liên quan",
            due_at=at(12, 17),
            new_appointment_at=at(19, 17),
            overdue=False,
            issued_by="cb.chuyenvien",
            issued_at=at(3, 7),
        )


def envelope(event: Event) -> Envelope:
    return wrap(event, source="/motcua/workflow", subject=getattr(event, "dossier_code", None))


def story(w: World) -> list[Event]:
    """Dossiers 0–5 received, 6 only submitted, 7 withdrawn. Dossier 4 is apologised for (its row
    loaded through the ORM) just before its case opens and resolved right after, in the same
    poll; dossier 1's case is told twice, the second under another case id."""
    return [
        w.opened(0),
        w.opened(1),
        w.apologised(4),
        w.opened(2),
        w.opened(4),
        w.opened(6),
        w.opened(7),
        w.resolved(4),
        w.opened(1, case=5),
        w.opened(3),
        w.resolved(0),
        w.opened(5),
        w.opened(0),
    ]


async def snapshot(engine: AsyncEngine, world: World) -> list[Any]:
    state = []
    async with engine.connect() as conn:
        for dossier_id in world.dossiers:
            row = (
                await conn.execute(
                    select(
                        Dossier.status, Dossier.version, Dossier.case_id, Dossier.rescheduled_at
                    ).where(Dossier.id == dossier_id)
                )
            ).one()
            log = (
                await conn.execute(
                    select(
                        DossierAction.action,
                        DossierAction.from_status,
                        DossierAction.to_status,
                        DossierAction.actor,
                        DossierAction.role,
                        DossierAction.at,
                    )
                    .where(DossierAction.dossier_id == dossier_id)
                    .order_by(DossierAction.id)
                )
            ).all()
            state.append((tuple(row), [tuple(r) for r in log]))
    return state


STATUSES = ["received"] * 6 + ["submitted", "withdrawn"]


async def test_a_run_of_cases_opened_leaves_what_one_by_one_application_leaves(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    case_ids = [uuid.uuid4() for _ in STATUSES]
    batched, single = World(STATUSES, case_ids), World(STATUSES, case_ids)
    await batched.store(engine)
    await single.store(engine)
    poll = [envelope(e) for e in story(batched)]

    assert await runner.apply_many(items(runner, poll)) == len(poll)
    for env in (envelope(e) for e in story(single)):
        await runner.apply(env, runner.handler_for(env.type))  # type: ignore[arg-type]

    state = await snapshot(engine, batched)
    assert state == await snapshot(engine, single)
    statuses = [row[0] for row, _ in state]
    processing, resolved = "in_processing", "resolved"
    assert statuses == [
        *(resolved, processing, processing, processing, resolved, processing),
        *("submitted", "withdrawn"),
    ]
    # One move into processing each, logged as workflow's, the version moved once by it; the
    # case id is the last one told, which moves no version.
    (row1, log1) = state[1]
    assert row1[1:3] == (2, case_ids[5])
    assert [(a, f, t, who) for a, f, t, who, _, _ in log1] == [
        ("start_processing", "received", "in_processing", "workflow")
    ]
    # The apology, the opening and the resolution of dossier 4, in that order, in one poll.
    assert [a for a, *_ in state[4][1]] == ["apologise", "start_processing", "resolve"]
    assert state[4][0][1] == 4
    assert state[6][0][1] == 1 and state[6][1] == []


async def test_a_case_opened_for_an_unknown_dossier_fails_the_run_and_nothing_else(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    world = World(["received", "received"], [uuid.uuid4(), uuid.uuid4()])
    await world.store(engine)
    stranger = World(["received"], [uuid.uuid4()])  # never stored
    poll = [envelope(world.opened(0)), envelope(stranger.opened(0)), envelope(world.opened(1))]
    with pytest.raises(LookupError):
        await runner.apply_many(items(runner, poll))
    # Event by event, as the consumer retries a failed poll, the known dossiers move.
    assert await runner.apply(poll[0], runner.handler_for(poll[0].type))  # type: ignore[arg-type]
    assert await runner.apply(poll[2], runner.handler_for(poll[2].type))  # type: ignore[arg-type]
    assert [row[0] for row, _ in await snapshot(engine, world)] == ["in_processing"] * 2


async def test_a_run_of_cases_opened_costs_the_same_few_statements_however_long(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    costs = []
    for size in (10, 100, 200):
        world = World(["received"] * size, [uuid.uuid4() for _ in range(size)])
        await world.store(engine)
        poll = [envelope(world.opened(n)) for n in range(size)]
        with StatementCount(engine) as count:
            assert await runner.apply_many(items(runner, poll)) == size
        costs.append(len(count.statements))
    # The inbox, the dossiers read, their update, their log.
    assert costs == [4, 4, 4]
