"""The gateway's doors: the IPN (server to server) and the browser's return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.deps import Settings
from payment_service.domain.states import STATUS_LABELS_VI, PaymentStatus
from payment_service.gateways import service
from payment_service.payments.schemas import ReturnOut
from shared.clock import Now
from shared.http.commit import CommitRoute
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(prefix="/v1/gateways/vnpay", tags=["gateways"], route_class=CommitRoute)


@router.get(
    "/ipn",
    summary="VNPay IPN (server to server)",
    description=(
        "Địa chỉ IPN đăng ký với VNPay. Luôn trả HTTP 200 với `{RspCode, Message}` đúng như VNPay "
        "yêu cầu: 00 ghi nhận; 01 không tìm thấy giao dịch; 02 đã xác nhận trước đó; 04 sai số "
        "tiền; 97 sai chữ ký; 99 lỗi khác. Chỉ thành công khi cả `vnp_ResponseCode` và "
        "`vnp_TransactionStatus` là 00. Kiểm tra chữ ký → tìm giao dịch → số tiền → trạng thái → "
        "cập nhật trong một giao dịch cơ sở dữ liệu; mọi IPN (kể cả giả mạo) được lưu lại."
    ),
    responses={
        200: {
            "content": {
                "application/json": {"example": {"RspCode": "00", "Message": "Confirm Success"}}
            }
        }
    },
)
async def ipn(
    request: Request,
    session: Annotated[AsyncSession, Depends(db_session)],
    settings: Settings,
    runtime: Annotated[Runtime, Depends(runtime_of)],
    now: Now,
) -> dict[str, str]:
    return await service.answer_ipn(
        session, runtime.outbox, settings, dict(request.query_params), now
    )


@router.get(
    "/return",
    response_model=ReturnOut,
    summary="Browser return from VNPay (shows, never changes)",
    description=(
        "Trang trở về sau khi thanh toán: chỉ hiển thị trạng thái giao dịch theo hệ thống, "
        "không bao giờ thay đổi trạng thái (kết quả chỉ đến từ IPN hoặc truy vấn)."
    ),
)
async def return_page(
    request: Request,
    session: Annotated[AsyncSession, Depends(db_session)],
    settings: Settings,
    now: Now,
) -> ReturnOut:
    params = dict(request.query_params)
    valid, payment = await service.check_return(session, settings, params, now)
    return ReturnOut(
        signature_valid=valid,
        reference=params.get("vnp_TxnRef"),
        status=payment.status if payment else None,
        status_vi=STATUS_LABELS_VI[PaymentStatus(payment.status)] if payment else None,
        dossier_code=payment.dossier_code if payment else None,
        amount_vnd=payment.amount_vnd if payment else None,
    )
