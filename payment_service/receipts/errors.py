"""Problems of the receipts feature."""

from __future__ import annotations

from shared.errors import Problem, not_found


def receipt_not_found() -> Problem:
    return not_found("receipt", "biên lai")


def range_exhausted(agency_code: str) -> Problem:
    return Problem(
        409,
        "receipt-range-exhausted",
        "No receipt number left for this agency",
        "Đã hết số biên lai được đăng ký của đơn vị thu",
        detail=f"every registered receipt range of {agency_code} is used up; register a new "
        "range (POST /v1/receipt-ranges) before collecting",
        detail_vi="đăng ký dải số biên lai mới (thông báo phát hành) trước khi thu tiếp",
    )


def range_overlaps() -> Problem:
    return Problem(
        409,
        "receipt-range-overlaps",
        "The range overlaps a registered range",
        "Dải số trùng với dải đã đăng ký",
        detail="a form code and symbol never issue the same number twice",
        detail_vi="một mẫu số, ký hiệu không được cấp trùng số",
    )


def already_cancelled() -> Problem:
    return Problem(
        409,
        "receipt-already-cancelled",
        "The receipt is cancelled already",
        "Biên lai đã bị hủy",
    )
