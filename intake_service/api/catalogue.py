"""Read-only catalogue routes: administrative units and procedures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.schemas import ProcedureOut, UnitOut
from intake_service.db.models import Procedure, Unit
from shared.errors import PROBLEM_RESPONSES
from shared.runtime import db_session

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=PROBLEM_RESPONSES)


@router.get(
    "/procedures",
    response_model=list[ProcedureOut],
    summary="List procedures",
    description="Danh mục thủ tục hành chính (công khai): mã, tên, lĩnh vực, thời hạn giải quyết.",
)
async def list_procedures(session: Annotated[AsyncSession, Depends(db_session)]) -> list[Procedure]:
    return list((await session.scalars(select(Procedure).order_by(Procedure.key))).all())


@router.get(
    "/units",
    response_model=list[UnitOut],
    summary="List administrative units",
    description="Đơn vị hành chính (công khai), lọc theo đơn vị cha; ví dụ `parent_code=01` cho các xã, phường của Hà Nội.",
)
async def list_units(
    session: Annotated[AsyncSession, Depends(db_session)],
    parent_code: Annotated[str | None, Query(max_length=16)] = None,
) -> list[Unit]:
    query = select(Unit).where(Unit.retired_at.is_(None)).order_by(Unit.code)
    query = (
        query.where(Unit.parent_code == parent_code)
        if parent_code
        else query.where(Unit.parent_code.is_(None))
    )
    return list((await session.scalars(query)).all())
