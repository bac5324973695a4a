"""E-receipts and receipt ranges over HTTP."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from payment_service.common.deps import Caller, Cursor, IdempotencyKey, Limit, Session
from payment_service.common.idempotency import request_hash, run_once
from payment_service.receipts import service
from payment_service.receipts.schemas import (
    RangeCreate,
    RangeOut,
    RangePage,
    ReceiptOut,
    ReceiptPage,
    ReceiptVerification,
)
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute

router = APIRouter(tags=["receipts"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)


@router.get(
    "/v1/receipts",
    response_model=ReceiptPage,
    summary="List e-receipts",
    description="Biên lai điện tử trong phạm vi đơn vị (hoặc của người nộp), mới phát hành sau cùng.",
)
async def list_receipts(
    principal: Caller,
    session: Session,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    agency_code: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ReceiptPage:
    return await service.list_receipts(
        session,
        principal,
        dossier_code=dossier_code,
        agency_code=agency_code,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/v1/receipts/{receipt_id}",
    response_model=ReceiptOut,
    summary="Read an e-receipt (JSON, or PDF with Accept: application/pdf)",
    description=(
        "Biên lai thu phí, lệ phí điện tử: mẫu số, ký hiệu, số, các khoản thu, người nộp (số "
        "định danh đã che). `Accept: application/pdf` trả bản PDF có mã QR để xác minh."
    ),
    responses={200: {"content": {"application/pdf": {}}}},
)
async def read_receipt(
    receipt_id: uuid.UUID,
    principal: Caller,
    session: Session,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    receipt = await service.read(session, principal, receipt_id)
    if accept and "application/pdf" in accept:
        return Response(
            service.pdf_of(receipt),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="bien-lai-{receipt.symbol}-{receipt.number:07d}.pdf"'
            },
        )
    return Response(service.receipt_out(receipt).model_dump_json(), media_type="application/json")


@router.get(
    "/v1/receipts/{receipt_id}/verify",
    response_model=ReceiptVerification,
    summary="Verify a receipt (public, from its QR code)",
    description="Xác minh biên lai từ mã QR: không cần đăng nhập, không có thông tin cá nhân.",
)
async def verify_receipt(receipt_id: uuid.UUID, session: Session) -> ReceiptVerification:
    return await service.verify(session, receipt_id)


@router.post(
    "/v1/receipt-ranges",
    status_code=201,
    response_model=RangeOut,
    summary="Register a receipt number range",
    description=(
        "Đăng ký dải số biên lai của đơn vị thu theo thông báo phát hành (mẫu số, ký hiệu, từ số "
        "đến số). Các dải cùng mẫu số, ký hiệu không được chồng lên nhau. Số được cấp liên tục, "
        "không trống số; số đã hủy không dùng lại. Hết số thì thu tại quầy trả 409."
    ),
)
async def register_range(
    body: RangeCreate,
    response: Response,
    principal: Caller,
    session: Session,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> RangeOut:
    status, answer = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "register_range",
        request_hash(body),
        lambda: service.register_range(session, principal, body, now),
    )
    response.status_code = status
    return RangeOut.model_validate(answer)


@router.get(
    "/v1/receipt-ranges",
    response_model=RangePage,
    summary="List receipt ranges",
    description=(
        "Các dải số biên lai đã đăng ký và số còn lại, theo thứ tự đăng ký; trang sau lấy bằng "
        "`cursor=next_cursor`."
    ),
)
async def list_ranges(
    principal: Caller,
    session: Session,
    agency_code: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RangePage:
    return await service.list_ranges(session, principal, agency_code, cursor=cursor, limit=limit)
