"""Refunds over HTTP: refund a paid payment, approve the system's proposals, read them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.deps import (
    Caller,
    Cursor,
    IdempotencyKey,
    Limit,
    Session,
    Settings,
)
from payment_service.common.idempotency import request_hash, run_once
from payment_service.gateways.vnpay_client import VnpayClient
from payment_service.refunds import service
from payment_service.refunds.schemas import (
    RefundApprove,
    RefundCreate,
    RefundOut,
    RefundPage,
    RefundStatus,
)
from payment_service.settings import PaymentSettings
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from shared.http.deps import RuntimeDep
from shared.runtime import Runtime

router = APIRouter(tags=["refunds"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)

# How a refund request maps onto transactions, and what Idempotency-Key replays.
#
# Transaction 1 (run_once) reserves the amount under the payment's lock and stores, with the
# key, the submitted refund: the key's job is to name that one refund. Transaction 2 sends it
# and records the outcome; the route commits it. The answer is always the refund as it stands after transaction 2,
# so a retry with the same key gets the same refund with its outcome, and a retry after a
# crash between the two transactions drives the refund to its end instead of reporting it
# "submitted" for ever. Storing a final answer instead would mean claiming the key outside
# the transaction that reserves the money, which leaves a window where two twins both pass.
_DESCRIPTION_TAIL = (
    " Kết quả trả về là yêu cầu hoàn tiền sau khi đã gửi (succeeded hoặc failed) và số tiền "
    "giao dịch còn được hoàn. `Idempotency-Key`: gửi lại cùng khóa, cùng nội dung nhận lại đúng "
    "yêu cầu hoàn tiền đó với kết quả hiện tại; cùng khóa, khác nội dung nhận 422."
)


async def _finish(
    session: AsyncSession,
    runtime: Runtime,
    settings: PaymentSettings,
    submitted: dict[str, Any],
    now: dt.datetime,
) -> RefundOut:
    """Transaction 2 (committed by the route), for the refund transaction 1 submitted (or a
    replay named)."""
    return await service.complete(
        session,
        runtime.outbox,
        settings,
        VnpayClient.from_settings(settings),
        uuid.UUID(str(submitted["id"])),
        now,
    )


@router.post(
    "/v1/payments/{payment_id}/refunds",
    status_code=201,
    response_model=RefundOut,
    summary="Refund a paid payment, in part or in full",
    description=(
        "Hoàn tiền giao dịch đã thanh toán: giao dịch qua cổng VNPay được hoàn qua cổng; tiền "
        "mặt, chuyển khoản do kế toán chi trả và hoàn tất ngay. `refund_amount_available_vnd` "
        "là số còn được hoàn cán bộ đã thấy: khác số hiện tại trả 412; mỗi lúc chỉ một yêu cầu "
        "hoàn tiền đang xử lý cho một giao dịch (409)." + _DESCRIPTION_TAIL
    ),
)
async def refund_payment(
    payment_id: uuid.UUID,
    body: RefundCreate,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    runtime: RuntimeDep,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> RefundOut:
    status, submitted = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "refund_payment",
        request_hash(body, payment_id),
        lambda: service.request_refund(session, runtime.outbox, principal, payment_id, body, now),
    )
    out = await _finish(session, runtime, settings, submitted, now)
    response.status_code = status
    response.headers["Location"] = f"/v1/refunds/{out.id}"
    return out


@router.post(
    "/v1/refunds/{refund_id}/approve",
    status_code=201,
    response_model=RefundOut,
    summary="Approve a refund the system proposed",
    description=(
        "Phê duyệt đề xuất hoàn tiền (hệ thống đề xuất khi hồ sơ đã nộp phí bị rút, từ chối "
        "hoặc không được giải quyết), có thể với số tiền khác số đề xuất." + _DESCRIPTION_TAIL
    ),
)
async def approve(
    refund_id: uuid.UUID,
    body: RefundApprove,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    runtime: RuntimeDep,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> RefundOut:
    status, submitted = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "approve_refund",
        request_hash(body, refund_id),
        lambda: service.approve_proposal(session, runtime.outbox, principal, refund_id, body, now),
    )
    out = await _finish(session, runtime, settings, submitted, now)
    response.status_code = status
    response.headers["Location"] = f"/v1/refunds/{out.id}"
    return out


@router.get(
    "/v1/refunds",
    response_model=RefundPage,
    summary="List refunds",
    description=(
        "Các yêu cầu hoàn tiền trong phạm vi đơn vị (hoặc của chính người nộp), lọc theo trạng "
        "thái: `proposed` là đề xuất của hệ thống đang chờ kế toán phê duyệt."
    ),
)
async def list_refunds(
    principal: Caller,
    session: Session,
    status: Annotated[RefundStatus | None, Query()] = None,
    payment_id: uuid.UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RefundPage:
    return await service.list_refunds(
        session,
        principal,
        status=status,
        payment_id=payment_id,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/v1/refunds/{refund_id}",
    response_model=RefundOut,
    summary="Read a refund",
    description="Một yêu cầu hoàn tiền và kết quả; ngoài phạm vi trả 404.",
)
async def read_refund(refund_id: uuid.UUID, principal: Caller, session: Session) -> RefundOut:
    return await service.read_refund(session, principal, refund_id)
