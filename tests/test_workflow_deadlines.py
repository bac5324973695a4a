"""One deadline rule: a step due exactly now is not yet overdue for the timers, the overdue work
queue, the timeliness of a step finished now or metrics' count of a case resolved now; one second
later all of them say it is late.

The clock is frozen by passing the instant in; the step's due instant is moved to a day long
past, inside a transaction that is rolled back, so nothing else in the suite sees it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from metrics_service.domain.facts import Fact, merge
from services.stack import Stack
from shared.auth import Principal, Role
from shared.deadlines import is_overdue, timeliness
from shared.events import CaseResolved
from shared.messaging.outbox import Outbox
from shared.vocabulary import Timeliness
from tests.support import HANOI, Tokens
from tests.test_workflow_cases import LAND, Cases, current
from workflow_service.db.models import MESSAGING, Step, Timer
from workflow_service.steps import service as steps
from workflow_service.steps.schemas import QueueFilter
from workflow_service.timers.service import fire_due

# Long before any timer the suite arms, so a round at this instant claims only this step's.
DUE = dt.datetime(2001, 3, 5, 3, 0, tzinfo=dt.UTC)
SUPERVISOR = Principal(
    sub="gs.deadlines", roles=frozenset({Role.supervisor}), unit=HANOI, unit_path=HANOI
)


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            try:
                yield session
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def overdue_queue(session: AsyncSession, agency: str, now: dt.datetime) -> set[uuid.UUID]:
    page = await steps.work_queue(
        session,
        SUPERVISOR,
        now,
        agency_code=agency,
        role=None,
        assignee=None,
        mine=False,
        filter=QueueFilter.overdue,
        limit=200,
        cursor=None,
    )
    return {item.id for item in page.items}


async def timer_fired(session: AsyncSession, step_id: uuid.UUID) -> dt.datetime | None:
    return await session.scalar(
        select(Timer.fired_at).where(Timer.step_id == step_id).order_by(Timer.id.desc()).limit(1)
    )


def counted_by_metrics(resolved_at: dt.datetime) -> str | None:
    """How metrics classes a case resolved at ``resolved_at`` against ``DUE`` when workflow's
    event leaves the timeliness to it."""
    event = CaseResolved(
        case_id=uuid.uuid4(),
        dossier_id=uuid.uuid4(),
        dossier_code="00070-010305-TEST-0001",
        unit_path=HANOI,
        outcome="approved",
        resolved_at=resolved_at,
        due_at=DUE,
        result_digitised=True,
        timeliness=None,
    )
    return merge(Fact(), event).timeliness


async def test_a_step_due_exactly_now_is_not_overdue_and_one_second_later_is_everywhere(
    cases: Cases, session: AsyncSession, namespace: str
) -> None:
    case = await cases.open(LAND)
    step = current(case)
    step_id = uuid.UUID(step["id"])
    await session.execute(update(Step).where(Step.id == step_id).values(due_at=DUE))
    await session.execute(
        update(Timer).where(Timer.step_id == step_id, Timer.fired_at.is_(None)).values(due_at=DUE)
    )
    outbox = Outbox(MESSAGING, source="/motcua/workflow", namespace=namespace)

    # Due exactly now: on time everywhere.
    now = DUE
    assert not is_overdue(DUE, now)
    assert await fire_due(session, outbox, now) == 0
    assert await timer_fired(session, step_id) is None
    assert step_id not in await overdue_queue(session, step["agency_code"], now)
    assert timeliness(now, DUE) is Timeliness.on_time
    assert counted_by_metrics(now) == Timeliness.on_time

    # One second later: late everywhere.
    now = DUE + dt.timedelta(seconds=1)
    assert is_overdue(DUE, now)
    assert await fire_due(session, outbox, now) == 1
    assert await timer_fired(session, step_id) == now
    assert step_id in await overdue_queue(session, step["agency_code"], now)
    assert timeliness(now, DUE) is Timeliness.late
    assert counted_by_metrics(now) == Timeliness.late
