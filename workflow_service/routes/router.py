"""Route templates as published with the catalogue: every version, readable by anyone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from workflow_service.common.deps import Session
from workflow_service.routes import service
from workflow_service.routes.schemas import RouteOut

router = APIRouter(
    prefix="/v1/routes", tags=["routes"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)

Key = Annotated[str, Path(max_length=128)]


@router.get(
    "/{procedure_key}",
    response_model=list[RouteOut],
    summary="Versions of a procedure's route",
    description=(
        "Các phiên bản quy trình liên thông của một thủ tục, mới nhất trước. Hồ sơ xử lý giữ "
        "phiên bản có hiệu lực khi được mở; thay đổi quy trình đi qua danh mục thủ tục."
    ),
)
async def route_versions(procedure_key: Key, session: Session) -> list[RouteOut]:
    return await service.route_versions(session, procedure_key)
