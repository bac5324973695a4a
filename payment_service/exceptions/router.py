"""The exception queue over HTTP: list, read, resolve."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from payment_service.common.deps import Caller, Cursor, Limit, Session
from payment_service.exceptions import service
from payment_service.exceptions.schemas import ExceptionOut, ExceptionPage, ExceptionResolve
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute

router = APIRouter(tags=["exceptions"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)

_KINDS = "^(overpaid|underpaid|wrong_memo|duplicate|paid_twice|amount_mismatch|receipt_pending)$"


@router.get(
    "/v1/exceptions",
    response_model=ExceptionPage,
    summary="List exceptions (ngoại lệ)",
    description=(
        "Hàng ngoại lệ cần cán bộ tài chính xử lý: chuyển thừa, chuyển thiếu, sai nội dung "
        "chuyển khoản, chuyển trùng, thanh toán hai lần, cổng báo sai số tiền, chờ số biên lai. "
        "Trong phạm vi đơn vị của cán bộ; khoản chưa xác định được đơn vị (ví dụ ghi có vào tài "
        "khoản dùng chung không có mã tham chiếu) chỉ vận hành thấy. Sắp xếp theo thời điểm "
        "phát sinh."
    ),
)
async def list_exceptions(
    principal: Caller,
    session: Session,
    kind: Annotated[str | None, Query(pattern=_KINDS)] = None,
    status: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ExceptionPage:
    return await service.list_exceptions(
        session, principal, kind=kind, status=status, cursor=cursor, limit=limit
    )


@router.get(
    "/v1/exceptions/{exception_id}",
    response_model=ExceptionOut,
    summary="Read an exception",
    description="Một ngoại lệ và cách đã xử lý; ngoài phạm vi trả 404.",
)
async def read_exception(
    exception_id: uuid.UUID, principal: Caller, session: Session
) -> ExceptionOut:
    return await service.read_exception(session, principal, exception_id)


@router.post(
    "/v1/exceptions/{exception_id}/resolve",
    response_model=ExceptionOut,
    summary="Resolve an exception",
    description=(
        "Cán bộ tài chính quyết định: `refund` hoàn trả (đề xuất hoàn tiền giao dịch, phê duyệt "
        "ở chức năng hoàn tiền; khoản không gắn giao dịch thì chuyển trả thủ công và ghi nhận "
        "tại đây), `accept` chấp nhận, `request_balance` yêu cầu nộp phần còn thiếu (chỉ khi "
        "chuyển thiếu), `dismiss` không cần xử lý. Ngoại lệ đã xử lý trả 409 (trạng thái là điều "
        "kiện, thay cho If-Match)."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "resolution": "request_balance",
                        "note": "Đã nhắn công dân nộp thêm 5.000 đồng lệ phí đăng ký thường trú",
                    }
                }
            }
        }
    },
)
async def resolve_exception(
    exception_id: uuid.UUID,
    body: ExceptionResolve,
    principal: Caller,
    session: Session,
    now: Now,
) -> ExceptionOut:
    return await service.resolve(session, principal, exception_id, body, now)
