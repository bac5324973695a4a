"""Case routes (read side of the skeleton)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, current_principal, unit_scope
from shared.errors import PROBLEM_RESPONSES, not_found
from shared.runtime import db_session
from workflow_service.db.models import Case

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=PROBLEM_RESPONSES)


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ")
    procedure_code: str
    unit_code: str
    status: str
    opened_at: dt.datetime
    due_at: dt.datetime = Field(description="hạn giải quyết")
    version: int


@router.get(
    "",
    response_model=list[CaseOut],
    summary="Find cases",
    description="Tìm hồ sơ xử lý theo mã hồ sơ hoặc id hồ sơ, trong phạm vi đơn vị của người xem.",
)
async def find_cases(
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    dossier_id: uuid.UUID | None = None,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Case]:
    query = select(Case).where(unit_scope(Case.unit_path, principal))
    if dossier_id:
        query = query.where(Case.dossier_id == dossier_id)
    if dossier_code:
        query = query.where(Case.dossier_code == dossier_code)
    return list((await session.scalars(query.order_by(Case.opened_at, Case.id).limit(limit))).all())


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    summary="Read a case",
    description="Xem một hồ sơ xử lý; ngoài phạm vi đơn vị trả 404.",
)
async def get_case(
    case_id: uuid.UUID,
    response: Response,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Case:
    case = await session.scalar(
        select(Case).where(Case.id == case_id, unit_scope(Case.unit_path, principal))
    )
    if case is None:
        raise not_found("case", "hồ sơ xử lý")
    response.headers["ETag"] = f'"{case.version}"'
    return case
