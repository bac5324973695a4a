"""Problems of the bank feature."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from shared.errors import Problem, field_errors, invalid_request


def notice_signature_invalid() -> Problem:
    return Problem(
        401,
        "bank-signature-invalid",
        "The credit notice is not signed by the bank",
        "Thông báo có không có chữ ký hợp lệ của ngân hàng",
        detail="X-Bank-Signature must be hex HMAC-SHA256(secret, X-Bank-Timestamp + '.' + body), "
        "with a timestamp close to now",
        detail_vi="chữ ký hoặc thời điểm ký không hợp lệ; thông báo không được ghi nhận",
    )


def notice_invalid(exc: ValidationError) -> Problem:
    """The same problem a bad request body gets everywhere, fields prefixed with ``body``."""
    located = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    return invalid_request(field_errors(RequestValidationError(located)))


def bank_unavailable(detail: str) -> Problem:
    return Problem(
        502,
        "bank-unavailable",
        "The bank did not give a statement",
        "Không lấy được sao kê từ ngân hàng",
        detail=detail,
        detail_vi="ngân hàng không trả lời hoặc trả lời không đọc được; thử lại sau",
    )


def statement_signature_invalid() -> Problem:
    return Problem(
        502,
        "bank-statement-signature-invalid",
        "The statement is not signed by the bank",
        "Sao kê không có chữ ký hợp lệ của ngân hàng",
        detail="the statement's X-Bank-Signature does not verify; nothing was applied",
        detail_vi="chữ ký sao kê không hợp lệ; không khoản nào được ghi nhận",
    )


def not_our_account(account_no: str) -> Problem:
    return Problem(
        422,
        "bank-account-unknown",
        "Not an account of a collecting agency",
        "Không phải tài khoản của đơn vị thu",
        detail=f"account {account_no} is neither the default account nor a payee's",
        detail_vi="chỉ nhập sao kê tài khoản thụ hưởng đã đăng ký",
        errors=[
            {
                "field": "body.account_no",
                "message": "unknown account",
                "message_vi": "tài khoản chưa đăng ký",
            }
        ],
    )
