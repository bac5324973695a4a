"""Route templates as published with the catalogue: every version, readable by anyone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import PROBLEM_RESPONSES, not_found
from shared.runtime import db_session
from workflow_service.api.schemas import RouteOut
from workflow_service.db.models import RouteTemplateRow

router = APIRouter(prefix="/v1/routes", tags=["routes"], responses=PROBLEM_RESPONSES)

Session = Annotated[AsyncSession, Depends(db_session)]
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
async def route_versions(procedure_key: Key, session: Session) -> list[RouteTemplateRow]:
    rows = list(
        await session.scalars(
            select(RouteTemplateRow)
            .where(RouteTemplateRow.procedure_key == procedure_key)
            .order_by(RouteTemplateRow.version.desc())
        )
    )
    if not rows:
        raise not_found("route", "quy trình")
    return rows
