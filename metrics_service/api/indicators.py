"""Indicator routes: counters read as totals, shares and ratios."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Counter, DossierFact
from metrics_service.domain.counting import ALL
from metrics_service.domain.indicators import Counts, Rates, Target, rates_of, targets_of
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
    received_at: dt.datetime | None = Field(description="thời điểm tiếp nhận")
    case_opened_at: dt.datetime | None = Field(description="thời điểm mở hồ sơ xử lý")
    fee_requested_at: dt.datetime | None = Field(description="thời điểm yêu cầu nộp phí")
    input_digitised_at: dt.datetime | None = Field(description="thời điểm số hóa đủ thành phần")
    resolved_at: dt.datetime | None = Field(description="thời điểm giải quyết")
    resolution_outcome: str | None = Field(description="approved / rejected")
    timeliness: str | None = Field(description="early / on_time / late")
    result_digitised: bool | None = Field(description="kết quả điện tử có ký số")
    fee_paid_online_at: dt.datetime | None = Field(description="thời điểm nộp phí trực tuyến")
    rated_at: dt.datetime | None = Field(description="thời điểm được đánh giá lần đầu")
    satisfied: bool | None = Field(description="hài lòng trên mọi kênh đánh giá")
    withdrawn_at: dt.datetime | None = Field(description="thời điểm rút hồ sơ")


class Indicators(BaseModel):
    unit_code: str = Field(description="mã đơn vị (gộp cả các đơn vị cấp dưới)")
    period: str = Field(description="kỳ báo cáo (tháng), ví dụ 2026-11")
    procedure_code: str = Field(description="mã thủ tục, hoặc * cho tất cả")
    counts: Counts = Field(
        description=(
            "số liệu: tiếp nhận tính theo tháng tiếp nhận, giải quyết theo tháng giải quyết, "
            "đánh giá theo tháng đánh giá đầu tiên, rút hồ sơ theo tháng rút"
        )
    )
    received_by_channel: dict[str, int] = Field(description="tiếp nhận theo kênh")
    rates: Rates = Field(description="các tỷ lệ, giữ cả tử số và mẫu số")
    targets: dict[str, Target] = Field(
        description="mục tiêu các tỉnh đặt ra và kết quả đạt hay chưa"
    )


UnitCode = Annotated[str, Query(pattern=r"^\d{2,5}$", description="mã đơn vị", examples=["01"])]
Period = Annotated[
    str,
    Query(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="kỳ báo cáo (tháng)", examples=["2026-11"]
    ),
]
ProcedureCode = Annotated[
    str,
    Query(
        max_length=128,
        pattern=r"^[\w.*-]+$",
        description="mã thủ tục; * cho tất cả",
        examples=["1.004222"],
    ),
]


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
    rows = await session.execute(
        select(Counter.channel, Counter.metric, Counter.value).where(
            Counter.unit_code == unit_code,
            Counter.period == period,
            Counter.procedure_code == procedure_code,
        )
    )
    totals: dict[str, int] = {}
    by_channel = dict.fromkeys(CHANNELS, 0)
    for channel, metric, value in rows:
        if channel == ALL:
            totals[metric] = value
        elif metric == "received":
            by_channel[channel] = value
    counts = Counts.of(totals, received_online=by_channel["online"])
    rates = rates_of(counts)
    return Indicators(
        unit_code=unit_code,
        period=period,
        procedure_code=procedure_code,
        counts=counts,
        received_by_channel=by_channel,
        rates=rates,
        targets=targets_of(rates),
    )


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
