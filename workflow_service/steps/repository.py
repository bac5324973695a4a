"""Every query of steps: writing a run of first steps, work queues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, unit_scope
from shared.calendar import VN_TZ
from shared.deadlines import overdue_condition
from shared.pagination import Keyset
from workflow_service.db.bulk import RowsInsert
from workflow_service.db.models import Case, Step, table_of
from workflow_service.domain.cases import CaseStatus, StepStatus
from workflow_service.steps.schemas import QueueFilter

QUEUE_ORDER = Keyset(columns=(Step.due_at, Step.id))


_STEPS = RowsInsert.of(table_of(Step))


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write many steps in one statement (Core: the rows are not the session's objects)."""
    await _STEPS.execute(session, rows)


async def queue(
    session: AsyncSession,
    principal: Principal,
    now: dt.datetime,
    *,
    agencies: frozenset[str] | None,
    agency_code: str | None,
    role: str | None,
    who: str | None,
    filter: QueueFilter | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[Step, Case]], str | None]:
    """Open steps in the principal's unit subtree, soonest due first; ``agencies`` None means
    every agency (supervisors, ops)."""
    query = (
        select(Step, Case)
        .join(Case, Case.id == Step.case_id)
        .where(
            Step.status.in_([StepStatus.waiting, StepStatus.in_progress]),
            unit_scope(Step.unit_path, principal),
        )
    )
    if agencies is not None:
        query = query.where(Step.agency_code.in_(sorted(agencies)))
    if agency_code:
        query = query.where(Step.agency_code == agency_code)
    if role:
        query = query.where(Step.role == role)
    if who:
        query = query.where(or_(Step.assignee == who, Step.claimed_by == who))
    if filter is QueueFilter.overdue:
        query = query.where(overdue_condition(Step.due_at, now), Case.status == CaseStatus.open)
    elif filter is QueueFilter.due_today:
        today = now.astimezone(VN_TZ).date()
        start = dt.datetime.combine(today, dt.time.min, tzinfo=VN_TZ)
        query = query.where(Step.due_at >= start, Step.due_at < start + dt.timedelta(days=1))
    elif filter is QueueFilter.paused:
        query = query.where(Case.status == CaseStatus.paused)
    paged = cast("Select[Step, Case]", QUEUE_ORDER.apply(cast("Select[Any]", query), cursor, limit))
    rows: Sequence[Row[Step, Case]] = (await session.execute(paged)).all()
    return QUEUE_ORDER.page(rows, limit, lambda r: (r[0].due_at, r[0].id))
