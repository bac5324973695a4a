"""The bank's doors: its signed credit notices, the statement import, the credits seen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from payment_service.bank import service
from payment_service.bank.schemas import (
    BankCreditPage,
    BankNotice,
    BankNoticeOut,
    StatementImport,
    StatementImportOut,
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
from payment_service.domain.credit_matching import Outcome
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from shared.runtime import Runtime, runtime_of

router = APIRouter(tags=["bank"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)

_NOTICE_EXAMPLE = {
    "transaction_id": "FT26337091512345",
    "bank_bin": "970415",
    "account_no": "113366668888",
    "amount_vnd": 20000,
    "description": "HSK7M2QX9ABC LE PHI",
    "credited_at": "2026-12-03T09:15:00+07:00",
}


@router.post(
    "/v1/bank-credits",
    response_model=BankNoticeOut,
    summary="The bank's credit notice (báo có), signed",
    description=(
        "Ngân hàng thông báo một khoản ghi có vào tài khoản thụ hưởng (chuyển khoản VietQR). "
        "Không dùng bearer token: xác thực bằng `X-Bank-Signature` = hex HMAC-SHA256(khóa bí mật, "
        "`X-Bank-Timestamp` + '.' + nguyên văn body), thời điểm ký lệch không quá "
        "`bank_notice_max_skew_s` giây. Mọi thông báo đều được lưu (kể cả giả mạo: trả 401, "
        "không thay đổi gì khác). Khoản ghi có được đối chiếu theo mã tham chiếu trong nội dung "
        "chuyển khoản (hoặc số tiền và ngày khi thiếu mã): `matched` ghi nhận thanh toán và cấp "
        "biên lai; `overpaid`/`underpaid` chuyển giao dịch sang chờ xử lý; `wrong_memo`, "
        "`duplicate` vào hàng ngoại lệ. Cùng một mã giao dịch gửi lại trả "
        '`{"duplicate_delivery": true}` và không thay đổi gì.'
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": BankNotice.model_json_schema(),
                    "example": _NOTICE_EXAMPLE,
                }
            },
        }
    },
)
async def receive_notice(
    request: Request,
    session: Session,
    settings: Settings,
    runtime: Annotated[Runtime, Depends(runtime_of)],
    now: Now,
    x_bank_timestamp: Annotated[
        str | None, Header(max_length=32, description="thời điểm ký (giây Unix)")
    ] = None,
    x_bank_signature: Annotated[
        str | None, Header(max_length=256, description="chữ ký HMAC-SHA256 (hex)")
    ] = None,
) -> BankNoticeOut:
    # The signature covers the bytes as sent, so the body is read raw and parsed after.
    body = await request.body()
    return await service.take_notice(
        session, runtime.outbox, settings, body, x_bank_timestamp, x_bank_signature, now
    )


@router.post(
    "/v1/bank-statements/import",
    response_model=StatementImportOut,
    summary="Import a day's bank statement (sao kê) and apply its credits",
    description=(
        "Lấy sao kê một ngày của một tài khoản thụ hưởng từ ngân hàng (có chữ ký như báo có), "
        "rồi đối chiếu từng dòng như một báo có chưa nhận được. Dòng đã biết (từ báo có hoặc lần "
        "nhập trước) bỏ qua; dòng lặp mã giao dịch trong cùng sao kê là cùng một khoản "
        "(`repeated`). Nhập lại cùng sao kê không thay đổi gì. Ngân hàng không trả lời hoặc sai "
        "chữ ký: 502. Quyền: cán bộ tài chính, vận hành. `Idempotency-Key`: cùng khóa, cùng nội "
        "dung nhận lại câu trả lời đầu."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "account_no": "113366668888",
                        "bank_bin": "970415",
                        "date": "2026-12-03",
                    }
                }
            }
        }
    },
    responses={502: PROBLEM_RESPONSES[500] | {"description": "Bank unavailable — ngân hàng lỗi"}},
)
async def import_statement(
    body: StatementImport,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    runtime: Annotated[Runtime, Depends(runtime_of)],
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> StatementImportOut:
    status, answer = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "import_bank_statement",
        request_hash(body),
        lambda: service.import_statement(session, runtime.outbox, settings, principal, body, now),
    )
    response.status_code = status
    return StatementImportOut.model_validate(answer)


@router.get(
    "/v1/bank-credits",
    response_model=BankCreditPage,
    summary="List bank credits",
    description=(
        "Các khoản ghi có đã nhận (từ báo có và sao kê) và kết quả đối chiếu, theo thứ tự nhận. "
        "Cán bộ tài chính thấy khoản của giao dịch hoặc ngoại lệ trong phạm vi đơn vị; vận hành "
        "thấy tất cả, kể cả khoản chưa xác định được đơn vị."
    ),
)
async def list_credits(
    principal: Caller,
    session: Session,
    account_no: Annotated[str | None, Query(max_length=32)] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> BankCreditPage:
    return await service.list_credits(
        session, principal, account_no=account_no, outcome=outcome, cursor=cursor, limit=limit
    )
