"""Problems the payments feature raises, each with Vietnamese beside the English."""

from __future__ import annotations

from shared.errors import Problem, not_found


def payment_not_found() -> Problem:
    return not_found("payment", "giao dịch thanh toán")


def request_not_found() -> Problem:
    return not_found("payment request", "yêu cầu thanh toán")


def request_closed(status: str) -> Problem:
    return Problem(
        409,
        "payment-request-closed",
        "The payment request is not open",
        "Yêu cầu thanh toán không còn mở",
        detail=f"the request is {status}",
        detail_vi="yêu cầu đã được thanh toán hoặc đã hủy",
    )


def transition_refused(status: str, action: str) -> Problem:
    return Problem(
        409,
        "payment-transition-not-allowed",
        "Not allowed in the payment's current state",
        "Không thực hiện được ở trạng thái hiện tại của giao dịch",
        detail=f"{action} is not allowed on a {status} payment",
        detail_vi=f"không thể {action} khi giao dịch đang ở trạng thái {status}",
    )


def wrong_amount(expected: int, given: int) -> Problem:
    return Problem(
        422,
        "payment-amount-mismatch",
        "The amount differs from what is owed",
        "Số tiền khác số phải nộp",
        detail=f"owed {expected} VND, given {given} VND",
        detail_vi=f"phải nộp {expected} đồng, đã nhập {given} đồng",
        errors=[
            {
                "field": "body.amount_vnd",
                "message": f"must equal {expected}",
                "message_vi": f"phải bằng {expected}",
            }
        ],
    )


def gateway_not_configured(agency_code: str) -> Problem:
    return Problem(
        503,
        "gateway-not-configured",
        "No payment gateway terminal for this agency",
        "Đơn vị thu chưa đăng ký cổng thanh toán",
        detail=f"agency {agency_code} has no VNPay terminal code and secret",
        detail_vi=f"đơn vị {agency_code} chưa có mã website và khóa bí mật VNPay",
    )
