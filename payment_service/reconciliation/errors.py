"""Problems of the reconciliation feature, each with Vietnamese beside the English."""

from __future__ import annotations

import datetime as dt

from shared.errors import Problem, not_found


def run_not_found() -> Problem:
    return not_found("reconciliation run", "kết quả đối soát")


def agency_unknown(agency_code: str) -> Problem:
    return Problem(
        404,
        "collecting-agency-unknown",
        "No such collecting agency",
        "Không tìm thấy đơn vị thu",
        detail=f"payment has no record of {agency_code}: no payment and no dossier of its unit",
        detail_vi=f"chưa có giao dịch hay hồ sơ nào của {agency_code}",
    )


def outside_scope(agency_code: str) -> Problem:
    return Problem(
        403,
        "forbidden",
        "Forbidden",
        "Không có quyền",
        detail=f"{agency_code} collects for a unit outside your unit's subtree",
        detail_vi=f"{agency_code} không thuộc đơn vị của cán bộ",
    )


def day_not_begun(day: dt.date) -> Problem:
    return Problem(
        422,
        "reconciliation-day-not-begun",
        "The day has not begun in Vietnam yet",
        "Chưa đến ngày đối soát",
        detail=f"{day.isoformat()} is later than today in Vietnam time",
        detail_vi=f"ngày {day.strftime('%d/%m/%Y')} chưa đến (giờ Việt Nam)",
        errors=[
            {
                "field": "body.day",
                "message": "must not be later than today in Vietnam time",
                "message_vi": "không được sau ngày hôm nay (giờ Việt Nam)",
            }
        ],
    )


def no_terminal(agency_code: str) -> Problem:
    return Problem(
        409,
        "vnpay-terminal-missing",
        "The agency has no VNPay terminal",
        "Đơn vị thu chưa có mã website (TmnCode) VNPay",
        detail=f"no VNPay terminal is configured for {agency_code}",
        detail_vi="cấu hình mã website và khóa bí mật VNPay của đơn vị thu trước khi đối soát",
    )


def statement_unavailable(source: str, why: str) -> Problem:
    """502: nothing is stored, so the run can simply be asked for again later."""
    source_vi = "cổng thanh toán VNPay" if source == "vnpay" else "ngân hàng"
    return Problem(
        502,
        "statement-unavailable",
        "The statement could not be obtained",
        f"Không lấy được bảng kê đối soát từ {source_vi}",
        detail=f"{source}: {why}",
        detail_vi="không có gì được ghi; thử đối soát lại sau",
    )
