"""The cash desk over HTTP: collect, void, close the day."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from payment_service.cash import service
from payment_service.cash.schemas import (
    CashCloseCreate,
    CashCloseOut,
    CashClosePage,
    CashPaymentCreate,
    CashPaymentOut,
    VoidCreate,
)
from payment_service.common.deps import (
    Caller,
    Cursor,
    IdempotencyKey,
    Limit,
    Session,
    Settings,
)
from payment_service.common.idempotency import request_hash, run_once
from shared.bounds import BoundedDate
from shared.clock import Now
from shared.errors import IF_MATCH_RESPONSES, PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from shared.http.deps import RuntimeDep
from shared.http.preconditions import expected_version

router = APIRouter(tags=["cash"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)


@router.post(
    "/v1/payment-requests/{request_id}/cash",
    status_code=201,
    response_model=CashPaymentOut,
    summary="Collect cash at the desk, or record a payment made on behalf",
    description=(
        "Thu tiền mặt tại quầy (`cash`) hoặc ghi nhận nộp hộ (`on_behalf`: người nộp tiền khác "
        "người nộp hồ sơ; bắt buộc thông tin người nộp tiền và lý do). Số tiền phải bằng số còn "
        "phải nộp. Giao dịch thành công ngay và biên lai được phát hành trong cùng giao dịch; "
        "hết số biên lai trả 409 và không ghi nhận gì. Số định danh người nộp tiền chỉ được lưu "
        "dạng đã che. `Idempotency-Key`: cùng khóa, cùng nội dung nhận lại câu trả lời đầu."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "method": "on_behalf",
                        "amount_vnd": 20000,
                        "payer": {
                            "name": "Trần Văn Bình",
                            "id_number": "001085012345",
                            "relation": "con",
                        },
                        "reason": "Người nộp hồ sơ cao tuổi, con nộp thay",
                        "paid_via": "cash",
                    }
                }
            }
        }
    },
)
async def collect(
    request_id: uuid.UUID,
    body: CashPaymentCreate,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    runtime: RuntimeDep,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> CashPaymentOut:
    status, answer = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "collect_cash",
        request_hash(body, request_id),
        lambda: service.record(session, runtime.outbox, settings, principal, request_id, body, now),
    )
    response.status_code = status
    response.headers["Location"] = f"/v1/payments/{answer['id']}"
    response.headers["ETag"] = f'"{answer["version"]}"'
    return CashPaymentOut.model_validate(answer)


@router.post(
    "/v1/payments/{payment_id}/void",
    response_model=CashPaymentOut,
    summary="Void a desk collection recorded by mistake",
    description=(
        "Hủy giao dịch thu tại quầy ghi nhầm: chỉ giao dịch tiền mặt hoặc nộp hộ đã thành công, "
        "do cán bộ thứ hai (không phải người đã thu) thực hiện, kèm `If-Match` (ETag của giao "
        "dịch). Biên lai bị hủy (số không dùng lại), yêu cầu thanh toán mở lại. Ngày đã chốt quỹ "
        "thì không hủy được (409)."
    ),
    responses=IF_MATCH_RESPONSES,
)
async def void(
    payment_id: uuid.UUID,
    body: VoidCreate,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    runtime: RuntimeDep,
    now: Now,
    if_match: Annotated[str | None, Header()] = None,
) -> CashPaymentOut:
    version = expected_version(if_match)
    out = await service.void(
        session,
        runtime.outbox,
        settings,
        principal,
        payment_id,
        version=version,
        reason=body.reason,
        now=now,
    )
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.post(
    "/v1/cash-closes",
    status_code=201,
    response_model=CashCloseOut,
    summary="Close the cash desk for a day (chốt quỹ)",
    description=(
        "Chốt quỹ của cán bộ đang đăng nhập cho một ngày (giờ Việt Nam, mặc định hôm nay): số "
        "giao dịch, tổng tiền các giao dịch thu tại quầy không bị hủy, số giao dịch đã hủy, và "
        "danh sách giao dịch kèm số biên lai. Mỗi cán bộ chốt một lần mỗi ngày (lần hai: 409); "
        "sau khi chốt không thu thêm, không hủy giao dịch của ngày đó."
    ),
)
async def close(
    response: Response,
    principal: Caller,
    session: Session,
    now: Now,
    body: CashCloseCreate | None = None,
) -> CashCloseOut:
    status, out = await service.close(session, principal, body or CashCloseCreate(), now)
    response.status_code = status
    return out


@router.get(
    "/v1/cash-closes",
    response_model=CashClosePage,
    summary="List cash closes",
    description=(
        "Các lần chốt quỹ: cán bộ xem của mình; kế toán, lãnh đạo xem của các quầy trong đơn vị."
    ),
)
async def list_closes(
    principal: Caller,
    session: Session,
    day: BoundedDate | None = None,
    officer: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CashClosePage:
    return await service.list_closes(
        session, principal, day=day, officer=officer, cursor=cursor, limit=limit
    )
