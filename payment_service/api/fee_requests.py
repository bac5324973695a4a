"""Fee request routes (read side of the skeleton)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import FeeRequest
from shared.auth import Principal, current_principal, unit_scope
from shared.errors import PROBLEM_RESPONSES, not_found
from shared.runtime import db_session

router = APIRouter(prefix="/v1/fee-requests", tags=["fees"], responses=PROBLEM_RESPONSES)


class FeeRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ")
    amount_vnd: int = Field(description="số tiền phí, lệ phí (đồng)")
    status: str
    requested_at: dt.datetime
    version: int


@router.get(
    "",
    response_model=list[FeeRequestOut],
    summary="Find fee requests",
    description="Tìm yêu cầu nộp phí, lệ phí theo hồ sơ, trong phạm vi đơn vị của người xem.",
)
async def find_fee_requests(
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    dossier_id: uuid.UUID | None = None,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[FeeRequest]:
    query = select(FeeRequest).where(unit_scope(FeeRequest.unit_path, principal))
    if dossier_id:
        query = query.where(FeeRequest.dossier_id == dossier_id)
    if dossier_code:
        query = query.where(FeeRequest.dossier_code == dossier_code)
    query = query.order_by(FeeRequest.requested_at, FeeRequest.id).limit(limit)
    return list((await session.scalars(query)).all())


@router.get(
    "/{fee_request_id}",
    response_model=FeeRequestOut,
    summary="Read a fee request",
    description="Xem một yêu cầu nộp phí; ngoài phạm vi đơn vị trả 404.",
)
async def get_fee_request(
    fee_request_id: uuid.UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> FeeRequest:
    row = await session.scalar(
        select(FeeRequest).where(
            FeeRequest.id == fee_request_id, unit_scope(FeeRequest.unit_path, principal)
        )
    )
    if row is None:
        raise not_found("fee request", "yêu cầu nộp phí")
    return row
