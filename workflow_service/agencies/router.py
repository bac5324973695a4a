"""Agency members: ops records which agencies an officer works for. An officer acts on a step
only as a member of the step's agency (this membership or the token's ``agency`` claim)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from shared.auth import Principal, Role, require_roles
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from workflow_service.agencies import service
from workflow_service.agencies.errors import UnknownAgency
from workflow_service.agencies.schemas import MemberOut, MemberPage
from workflow_service.common.deps import Cursor, Limit, Session
from workflow_service.db.models import AgencyMember

router = APIRouter(
    prefix="/v1/agencies", tags=["agencies"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)

Ops = Annotated[Principal, Depends(require_roles(Role.ops))]
# The shape intake gives agency codes.
AgencyCode = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
OfficerSub = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


@router.get(
    "/{agency_code}/members",
    response_model=MemberPage,
    summary="Members of an agency",
    description=(
        "Cán bộ được ghi nhận thuộc cơ quan (ngoài cơ quan ghi trong token, claim `agency`). "
        "Chỉ vận hành (ops)."
    ),
)
async def list_members(
    agency_code: AgencyCode,
    _: Ops,
    session: Session,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> MemberPage:
    return await service.members(session, agency_code, limit, cursor)


@router.put(
    "/{agency_code}/members/{officer}",
    response_model=MemberOut,
    summary="Record an officer in an agency",
    description=(
        "Ghi nhận cán bộ thuộc cơ quan; gọi lại không thay đổi gì (trả bản ghi đầu tiên). Cơ "
        "quan phải có trong danh mục và đang hoạt động (422 nếu không)."
    ),
    responses={
        201: {"description": "Đã ghi nhận lần đầu", "model": MemberOut},
        **problem_responses(UnknownAgency),
    },
)
async def add_member(
    agency_code: AgencyCode,
    officer: OfficerSub,
    response: Response,
    principal: Ops,
    session: Session,
    now: Now,
) -> AgencyMember:
    row, created = await service.add_member(session, agency_code, officer, principal.sub, now)
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
    await service.remove_member(session, agency_code, officer)
    return Response(status_code=204)
