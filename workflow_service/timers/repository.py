"""Durable deadline timers in PostgreSQL: arming, disarming, claiming the due ones."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.deadlines import overdue_condition
from workflow_service.db.bulk import RowsInsert
from workflow_service.db.models import Case, Step, Timer, table_of

_TIMERS = RowsInsert.of(table_of(Timer))

STEP_DUE = "step_due"
CASE_DUE = "case_due"


def arm(
    session: AsyncSession,
    case_id: uuid.UUID,
    kind: str,
    due_at: dt.datetime,
    step_id: uuid.UUID | None = None,
) -> None:
    session.add(Timer(**timer_row(case_id, kind, due_at, step_id)))


def timer_row(
    case_id: uuid.UUID, kind: str, due_at: dt.datetime, step_id: uuid.UUID | None = None
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "step_id": step_id,
        "kind": kind,
        "due_at": due_at,
        "suspended": False,
        "fired_at": None,
    }


async def arm_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Arm many timers (rows of :func:`timer_row`) in one statement."""
    await _TIMERS.execute(session, rows)


async def disarm_step(session: AsyncSession, step_id: uuid.UUID) -> None:
    await session.execute(delete(Timer).where(Timer.step_id == step_id, Timer.fired_at.is_(None)))


async def disarm_case(session: AsyncSession, case_id: uuid.UUID) -> None:
    await session.execute(delete(Timer).where(Timer.case_id == case_id, Timer.fired_at.is_(None)))


async def suspend_case(session: AsyncSession, case_id: uuid.UUID) -> None:
    await session.execute(
        update(Timer)
        .where(Timer.case_id == case_id, Timer.fired_at.is_(None))
        .values(suspended=True)
    )


async def claim_overdue(
    session: AsyncSession, now: dt.datetime, batch: int
) -> Sequence[Row[uuid.UUID, uuid.UUID | None, str, dt.datetime]]:
    """Claim and mark fired, in one statement, up to ``batch`` timers overdue at ``now`` that no
    other process holds locked (a timer due exactly now is not overdue yet)."""
    claimable = (
        select(Timer.id)
        .where(
            Timer.fired_at.is_(None),
            Timer.suspended.is_(False),
            overdue_condition(Timer.due_at, now),
        )
        .order_by(Timer.due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        await session.execute(
            update(Timer)
            .where(Timer.id.in_(claimable))
            .values(fired_at=now)
            .returning(Timer.case_id, Timer.step_id, Timer.kind, Timer.due_at)
            .execution_options(synchronize_session=False)
        )
    ).all()


async def cases_and_steps(
    session: AsyncSession, case_ids: set[uuid.UUID], step_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, Case], dict[uuid.UUID, Step]]:
    cases = {c.id: c for c in await session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    steps = (
        {s.id: s for s in await session.scalars(select(Step).where(Step.id.in_(step_ids)))}
        if step_ids
        else {}
    )
    return cases, steps


async def next_due(session: AsyncSession) -> dt.datetime | None:
    return await session.scalar(
        select(func.min(Timer.due_at)).where(Timer.fired_at.is_(None), Timer.suspended.is_(False))
    )
