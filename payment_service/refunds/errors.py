"""Problems of the refunds feature."""

from __future__ import annotations

from shared.errors import Problem, not_found


def refund_not_found() -> Problem:
    return not_found("refund", "yêu cầu hoàn tiền")


def stale_available(current: int) -> Problem:
    return Problem(
        412,
        "refund-amount-available-changed",
        "The refundable amount has changed",
        "Số tiền còn được hoàn đã thay đổi",
        detail=f"{current} VND is refundable now; read the payment again before refunding",
        detail_vi=f"hiện còn được hoàn {current} đồng; hãy tải lại giao dịch rồi thực hiện lại",
    )


def too_much(available: int) -> Problem:
    return Problem(
        422,
        "refund-exceeds-available",
        "The refund exceeds what is refundable",
        "Số tiền hoàn vượt quá số còn được hoàn",
        detail=f"at most {available} VND can be refunded",
        detail_vi=f"chỉ còn được hoàn tối đa {available} đồng",
        errors=[
            {
                "field": "body.amount_vnd",
                "message": f"must be between 1 and {available}",
                "message_vi": f"phải từ 1 đến {available}",
            }
        ],
    )


def not_refundable(status: str) -> Problem:
    return Problem(
        409,
        "payment-not-refundable",
        "The payment cannot be refunded now",
        "Giao dịch không thể hoàn tiền lúc này",
        detail=f"a {status} payment takes no refund (one refund at a time, paid payments only)",
        detail_vi="chỉ hoàn tiền giao dịch đã thanh toán, mỗi lần một yêu cầu",
    )


def not_proposed() -> Problem:
    return Problem(
        409,
        "refund-not-proposed",
        "Only a proposed refund can be approved",
        "Chỉ phê duyệt được đề xuất hoàn tiền",
    )
