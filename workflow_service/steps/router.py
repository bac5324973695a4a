"""Work queues: open steps for an officer, a role or an agency, soonest due first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from workflow_service.common.deps import Caller, Cursor, Limit, Session
from workflow_service.steps import service
from workflow_service.steps.schemas import QueueFilter, StepPage

router = APIRouter(
    prefix="/v1/steps", tags=["work queues"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


@router.get(
    "",
    response_model=StepPage,
    summary="Work queue",
    description=(
        "Danh sách bước đang chờ hoặc đang xử lý của các cơ quan người xem thuộc về (claim `agency` "
        "và danh sách thành viên cơ quan), trong phạm vi đơn vị, sắp theo hạn "
        "(sớm nhất trước): của một cán bộ (`assignee`, `mine=true`), một vai trò, một cơ quan; lọc "
        "`overdue` (quá hạn: đã qua hạn của bước, bước đến hạn đúng lúc này chưa quá hạn), "
        "`due_today` (đến hạn hôm nay), `paused` (đang tạm dừng). Giám sát viên dùng "
        "`filter=overdue` để theo dõi các bước quá hạn."
    ),
)
async def work_queue(
    principal: Caller,
    session: Session,
    now: Now,
    agency_code: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    mine: bool = False,
    filter: Annotated[QueueFilter | None, Query(description="overdue, due_today, paused")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> StepPage:
    return await service.work_queue(
        session,
        principal,
        now,
        agency_code=agency_code,
        role=role,
        assignee=assignee,
        mine=mine,
        filter=filter,
        limit=limit,
        cursor=cursor,
    )
