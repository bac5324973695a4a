"""Indicator routes: counters read as totals, shares and ratios."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Counter, DossierFact
from metrics_service.domain.counting import ALL
from metrics_service.domain.ratios import Ratio
from shared.auth import Principal, current_principal, unit_scope
from shared.errors import PROBLEM_RESPONSES, not_found
from shared.runtime import db_session

router = APIRouter(prefix="/v1", tags=["indicators"], responses=PROBLEM_RESPONSES)

CHANNELS = ("online", "direct", "postal", "integration")


class ReceivedIndicators(BaseModel):
    unit_code: str = Field(description="mã đơn vị (gộp cả các đơn vị cấp dưới)")
    period: str = Field(description="kỳ báo cáo (tháng), ví dụ 2026-11")
    procedure_code: str = Field(description="mã thủ tục, hoặc * cho tất cả")
    received: int = Field(description="tổng số hồ sơ tiếp nhận")
    received_by_channel: dict[str, int] = Field(description="tiếp nhận theo kênh")
    online_rate: Ratio = Field(description="tỷ lệ hồ sơ nộp trực tuyến")


class FactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dossier_id: uuid.UUID
    dossier_code: str | None
    unit_code: str | None
    procedure_code: str | None
    channel: str | None


@router.get(
    "/indicators/received",
    response_model=ReceivedIndicators,
    summary="Received dossiers of a unit in a period",
    description="Số hồ sơ tiếp nhận của một đơn vị (gồm đơn vị cấp dưới) trong kỳ, theo kênh, và tỷ lệ nộp trực tuyến.",
)
async def received_indicators(
    _: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    unit_code: Annotated[str, Query(pattern=r"^\d{2,5}$", examples=["01"])],
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])],
    procedure_code: Annotated[str, Query(max_length=128)] = ALL,
) -> ReceivedIndicators:
    rows = await session.execute(
        select(Counter.channel, Counter.value).where(
            Counter.unit_code == unit_code,
            Counter.period == period,
            Counter.procedure_code == procedure_code,
            Counter.metric == "received",
        )
    )
    by_channel = dict.fromkeys(CHANNELS, 0) | {ALL: 0}
    for channel, value in rows:
        by_channel[channel] = value
    total = by_channel.pop(ALL)
    return ReceivedIndicators(
        unit_code=unit_code,
        period=period,
        procedure_code=procedure_code,
        received=total,
        received_by_channel=by_channel,
        online_rate=Ratio.of(by_channel["online"], total),
    )


@router.get(
    "/facts/{dossier_id}",
    response_model=FactOut,
    summary="What metrics knows of a dossier",
    description="Dữ kiện của một hồ sơ mà dịch vụ chỉ số đã ghi nhận.",
)
async def get_fact(
    dossier_id: uuid.UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> DossierFact:
    fact = await session.scalar(
        select(DossierFact).where(
            DossierFact.dossier_id == dossier_id, unit_scope(DossierFact.unit_path, principal)
        )
    )
    if fact is None:
        raise not_found("dossier fact", "dữ kiện hồ sơ")
    return fact
