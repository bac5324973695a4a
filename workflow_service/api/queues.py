"""Work queues: open steps for an officer, a role or an agency, soonest due first."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, current_principal, unit_scope
from shared.calendar import VN_TZ
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.pagination import decode_cursor, encode_cursor
from shared.runtime import db_session
from workflow_service.api.cases import step_out
from workflow_service.api.schemas import StepPage, StepQueueItem
from workflow_service.db import members
from workflow_service.db.models import Case, Step
from workflow_service.domain.cases import CaseStatus, StepStatus

router = APIRouter(prefix="/v1/steps", tags=["work queues"], responses=PROBLEM_RESPONSES)


class QueueFilter(StrEnum):
    overdue = "overdue"
    due_today = "due_today"
    paused = "paused"


@router.get(
    "",
    response_model=StepPage,
    summary="Work queue",
    description=(
        "Danh sách bước đang chờ hoặc đang xử lý của các cơ quan người xem thuộc về (claim `agency` "
        "và danh sách thành viên cơ quan), trong phạm vi đơn vị, sắp theo hạn "
        "(sớm nhất trước): của một cán bộ (`assignee`, `mine=true`), một vai trò, một cơ quan; lọc "
        "`overdue` (quá hạn), `due_today` (đến hạn hôm nay), `paused` (đang tạm dừng). Giám sát "
        "viên dùng `filter=overdue` để theo dõi các bước quá hạn."
    ),
)
async def work_queue(
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    now: Now,
    agency_code: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    mine: bool = False,
    filter: Annotated[QueueFilter | None, Query(description="overdue, due_today, paused")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> StepPage:
    query = (
        select(Step, Case)
        .join(Case, Case.id == Step.case_id)
        .where(
            Step.status.in_([StepStatus.waiting, StepStatus.in_progress]),
            unit_scope(Step.unit_path, principal),
        )
    )
    if not principal.has_role(Role.ops, Role.supervisor):
        # An officer's queue holds the steps of their agencies only; supervisors and ops
        # watch every agency of their scope (overdue steps above all).
        mine_agencies = await members.agencies_of(session, principal)
        query = query.where(Step.agency_code.in_(sorted(mine_agencies)))
    if agency_code:
        query = query.where(Step.agency_code == agency_code)
    if role:
        query = query.where(Step.role == role)
    who = principal.sub if mine else assignee
    if who:
        query = query.where(or_(Step.assignee == who, Step.claimed_by == who))
    if filter is QueueFilter.overdue:
        query = query.where(Step.due_at < now, Case.status == CaseStatus.open)
    elif filter is QueueFilter.due_today:
        today = now.astimezone(VN_TZ).date()
        start = dt.datetime.combine(today, dt.time.min, tzinfo=VN_TZ)
        query = query.where(Step.due_at >= start, Step.due_at < start + dt.timedelta(days=1))
    elif filter is QueueFilter.paused:
        query = query.where(Case.status == CaseStatus.paused)
    if cursor:
        due, ident = decode_cursor(cursor)
        query = query.where(or_(Step.due_at > due, and_(Step.due_at == due, Step.id > ident)))
    rows = (await session.execute(query.order_by(Step.due_at, Step.id).limit(limit + 1))).all()
    items = [
        StepQueueItem(
            **step_out(step).model_dump(),
            case_id=case.id,
            dossier_code=case.dossier_code,
            case_status=case.status,
        )
        for step, case in rows[:limit]
    ]
    return StepPage(
        items=items,
        next_cursor=encode_cursor(rows[limit - 1][0].due_at, rows[limit - 1][0].id)
        if len(rows) > limit
        else None,
    )
