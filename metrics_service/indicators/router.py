"""Indicator routes: counters read as totals, shares and ratios."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.domain.counting import ALL
from metrics_service.indicators import service
from metrics_service.indicators.schemas import (
    Indicators,
    Period,
    ProcedureCode,
    ReceivedIndicators,
    UnitCode,
)
from shared.auth import Principal, current_principal
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from shared.runtime import db_session

router = APIRouter(
    prefix="/v1", tags=["indicators"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


@router.get(
    "/indicators",
    response_model=Indicators,
    summary="All indicators of a unit in a period",
    description=(
        "Bộ chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg) của một đơn vị, gồm các "
        "đơn vị cấp dưới, trong một tháng: tỷ lệ đúng hạn, trễ hạn, nộp trực tuyến, số hóa hồ sơ "
        "đầu vào, cấp kết quả điện tử, thanh toán trực tuyến, được đánh giá và hài lòng; kèm số liệu "
        "gốc. Ví dụ: `unit_code=01&period=2026-11` cho Thành phố Hà Nội tháng 11/2026."
    ),
)
async def indicators(
    _: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    unit_code: UnitCode,
    period: Period,
    procedure_code: ProcedureCode = ALL,
) -> Indicators:
    return await service.indicators(session, unit_code, period, procedure_code)


@router.get(
    "/indicators/received",
    response_model=ReceivedIndicators,
    summary="Received dossiers of a unit in a period",
    description="Số hồ sơ tiếp nhận của một đơn vị (gồm đơn vị cấp dưới) trong kỳ, theo kênh, và tỷ lệ nộp trực tuyến.",
)
async def received_indicators(
    _: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    unit_code: UnitCode,
    period: Period,
    procedure_code: ProcedureCode = ALL,
) -> ReceivedIndicators:
    return await service.received(session, unit_code, period, procedure_code)
