"""Agency members: ops records which agencies an officer works for. An officer acts on a step
only as a member of the step's agency (this membership or the token's ``agency`` claim)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require_roles
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.runtime import db_session
from workflow_service import intake
from workflow_service.api.schemas import UNAVAILABLE_RESPONSES
from workflow_service.db import members
from workflow_service.db.models import AgencyMember
from workflow_service.settings import WorkflowSettings

router = APIRouter(prefix="/v1/agencies", tags=["agencies"], responses=PROBLEM_RESPONSES)

Session = Annotated[AsyncSession, Depends(db_session)]
Ops = Annotated[Principal, Depends(require_roles(Role.ops))]
# The shape intake gives agency codes.
AgencyCode = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
OfficerSub = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class MemberOut(BaseModel):
    """Một cán bộ thuộc một cơ quan."""

    model_config = ConfigDict(from_attributes=True)

    agency_code: str
    officer_sub: str
    added_at: dt.datetime
    added_by: str


@router.get(
    "/{agency_code}/members",
    response_model=list[MemberOut],
    summary="Members of an agency",
    description=(
        "Cán bộ được ghi nhận thuộc cơ quan (ngoài cơ quan ghi trong token, claim `agency`). "
        "Chỉ vận hành (ops)."
    ),
)
async def list_members(agency_code: AgencyCode, _: Ops, session: Session) -> list[AgencyMember]:
    async with session.begin():
        return await members.members(session, agency_code)


@router.put(
    "/{agency_code}/members/{officer}",
    response_model=MemberOut,
    summary="Record an officer in an agency",
    description=(
        "Ghi nhận cán bộ thuộc cơ quan; gọi lại không thay đổi gì (trả bản ghi đầu tiên). Cơ "
        "quan phải có trong danh mục và đang hoạt động (422 nếu không, 503 khi chưa đọc được "
        "danh mục)."
    ),
    responses={
        201: {"description": "Đã ghi nhận lần đầu", "model": MemberOut},
        **UNAVAILABLE_RESPONSES,
    },
)
async def add_member(
    agency_code: AgencyCode,
    officer: OfficerSub,
    request: Request,
    response: Response,
    principal: Ops,
    session: Session,
    now: Now,
) -> Any:
    settings: WorkflowSettings = request.app.state.settings
    await intake.require_active_agency(
        settings.intake_url, settings.intake_timeout_s, agency_code, "path.agency_code"
    )
    async with session.begin():
        row, created = await members.add(session, agency_code, officer, principal.sub, now)
    response.status_code = 201 if created else 200
    return row


@router.delete(
    "/{agency_code}/members/{officer}",
    status_code=204,
    response_class=Response,
    summary="Remove an officer from an agency",
    description="Bỏ ghi nhận cán bộ thuộc cơ quan; gọi lại (đã bỏ) cũng trả 204.",
)
async def remove_member(
    agency_code: AgencyCode, officer: OfficerSub, _: Ops, session: Session
) -> Response:
    async with session.begin():
        await members.remove(session, agency_code, officer)
    return Response(status_code=204)
