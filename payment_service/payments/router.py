"""Payment requests and payments over HTTP: parse, call one service function, shape."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from payment_service.common.deps import Caller, Cursor, IdempotencyKey, Limit, Session, Settings
from payment_service.common.idempotency import request_hash, run_once
from payment_service.domain import authority, states
from payment_service.payments import service
from payment_service.payments.schemas import (
    GatewayPaymentCreate,
    PaymentOut,
    PaymentPage,
    PaymentRequestOut,
    PaymentRequestPage,
)
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from shared.runtime import Runtime, runtime_of

router = APIRouter(tags=["payments"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)


@router.get(
    "/v1/payment-requests",
    response_model=PaymentRequestPage,
    summary="List payment requests",
    description=(
        "Các yêu cầu thanh toán (phí, lệ phí khi tiếp nhận; nghĩa vụ tài chính khi tạm dừng "
        "xử lý) trong phạm vi đơn vị của cán bộ, hoặc của chính người nộp hồ sơ."
    ),
)
async def list_requests(
    principal: Caller,
    session: Session,
    dossier_id: uuid.UUID | None = None,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(open|paid|cancelled)$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PaymentRequestPage:
    return await service.list_requests(
        session,
        principal,
        dossier_id=dossier_id,
        dossier_code=dossier_code,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/v1/payment-requests/{request_id}",
    response_model=PaymentRequestOut,
    summary="Read a payment request",
    description="Một yêu cầu thanh toán với các khoản thu; ngoài phạm vi trả 404.",
)
async def read_request(
    request_id: uuid.UUID, principal: Caller, session: Session
) -> PaymentRequestOut:
    return await service.read_request(session, principal, request_id)


@router.post(
    "/v1/payments",
    status_code=201,
    response_model=PaymentOut,
    summary="Pay a request online (VNPay or VietQR)",
    description=(
        "Bắt đầu thanh toán trực tuyến một yêu cầu: `vnpay` trả `pay_url` đã ký (HMAC-SHA512) "
        "để chuyển người nộp sang cổng; `vietqr` trả mã QR động có số tiền và mã tham chiếu. "
        "Kết quả chỉ được ghi nhận từ IPN của cổng hoặc báo có của ngân hàng, không từ trình "
        "duyệt. Gọi lại khi giao dịch cũ còn hạn trả lại đúng giao dịch đó. `Idempotency-Key`: "
        "cùng khóa, cùng nội dung nhận lại câu trả lời đầu; khác nội dung nhận 422.\n\n"
        "Trạng thái giao dịch:\n\n"
        + states.markdown_table()
        + "\n\nQuyền:\n\n"
        + authority.markdown_table()
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "request_id": "0f8b6a52-3c1e-4d7a-9b1e-2a5c7d9e0f11",
                        "method": "vnpay",
                    }
                }
            }
        }
    },
)
async def start_payment(
    body: GatewayPaymentCreate,
    request: Request,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    runtime: Annotated[Runtime, Depends(runtime_of)],
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> PaymentOut:
    client_ip = request.client.host if request.client else "127.0.0.1"
    status, answer = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "start_payment",
        request_hash(body),
        lambda: service.start(
            session, runtime.outbox, settings, principal, body, client_ip=client_ip, now=now
        ),
    )
    response.status_code = status
    response.headers["Location"] = f"/v1/payments/{answer['id']}"
    response.headers["ETag"] = f'"{answer["version"]}"'
    return PaymentOut.model_validate(answer)


@router.get(
    "/v1/payments",
    response_model=PaymentPage,
    summary="List payments",
    description="Giao dịch thanh toán trong phạm vi, lọc theo hồ sơ, trạng thái, phương thức.",
)
async def list_payments(
    principal: Caller,
    session: Session,
    settings: Settings,
    dossier_id: uuid.UUID | None = None,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[states.PaymentStatus | None, Query()] = None,
    method: Annotated[str | None, Query(pattern="^(vnpay|vietqr|cash|on_behalf)$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PaymentPage:
    return await service.list_payments(
        session,
        settings,
        principal,
        dossier_id=dossier_id,
        dossier_code=dossier_code,
        status=status,
        method=method,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/v1/payments/{payment_id}",
    response_model=PaymentOut,
    summary="Read a payment with its history",
    description="Một giao dịch, lịch sử trạng thái, biên lai nếu có; ngoài phạm vi trả 404.",
)
async def read_payment(
    payment_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
) -> PaymentOut:
    out = await service.read_payment(session, settings, principal, payment_id)
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.get(
    "/v1/payments/{payment_id}/qr.{kind}",
    summary="The VietQR image of a transfer payment",
    description="Ảnh mã VietQR (PNG hoặc SVG) để in tại quầy hoặc hiển thị cho người nộp.",
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
async def qr_image(
    payment_id: uuid.UUID,
    kind: Annotated[str, Path(pattern="^(png|svg)$")],
    principal: Caller,
    session: Session,
    settings: Settings,
) -> Response:
    image = await service.qr_image(session, settings, principal, payment_id, kind)
    return Response(image, media_type="image/png" if kind == "png" else "image/svg+xml")


@router.get(
    "/v1/payment-states",
    summary="The payment state machine",
    description="Bảng chuyển trạng thái giao dịch (dữ liệu, kiểm tra tại một chỗ).",
)
async def payment_states() -> list[dict[str, str]]:
    return [
        {"from": t.source, "action": t.action, "to": t.target, "event": t.event}
        for t in states.TRANSITIONS
    ]
