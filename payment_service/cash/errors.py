"""Problems of the cash-desk feature, each with Vietnamese beside the English."""

from __future__ import annotations

import datetime as dt

from shared.errors import Problem


def payer_is_applicant() -> Problem:
    return Problem(
        422,
        "payer-is-applicant",
        "Paid on behalf means someone other than the applicant pays",
        "Nộp hộ phải do người khác người nộp hồ sơ nộp",
        detail="the payer's ID number is the applicant's; record it as cash instead",
        detail_vi="số định danh người nộp tiền trùng với người nộp hồ sơ; hãy ghi nhận là tiền mặt",
        errors=[
            {
                "field": "body.payer.id_number",
                "message": "must not be the applicant's ID number",
                "message_vi": "không được trùng số định danh của người nộp hồ sơ",
            }
        ],
    )


def desk_closed(day: dt.date) -> Problem:
    return Problem(
        409,
        "cash-desk-closed",
        "The cash desk is closed for that day",
        "Quỹ tiền mặt của ngày này đã chốt",
        detail=f"the officer's cash desk was closed for {day.isoformat()}; nothing of that day "
        "may change any more",
        detail_vi=f"quỹ ngày {day.strftime('%d/%m/%Y')} đã chốt, không thu thêm hoặc hủy giao dịch "
        "của ngày đó",
    )


def already_closed(day: dt.date) -> Problem:
    return Problem(
        409,
        "cash-close-exists",
        "The cash desk was closed already for that day",
        "Đã chốt quỹ ngày này",
        detail=f"one close per officer and day; {day.isoformat()} is closed",
        detail_vi=f"mỗi cán bộ chỉ chốt quỹ một lần mỗi ngày; ngày {day.strftime('%d/%m/%Y')} "
        "đã chốt",
    )


def future_day(day: dt.date) -> Problem:
    return Problem(
        422,
        "cash-close-future-day",
        "A day not yet begun cannot be closed",
        "Không thể chốt quỹ cho ngày chưa đến",
        detail=f"{day.isoformat()} is after today (Vietnam time)",
        detail_vi=f"ngày {day.strftime('%d/%m/%Y')} chưa đến",
        errors=[
            {
                "field": "body.day",
                "message": "must not be after today",
                "message_vi": "không được sau ngày hôm nay",
            }
        ],
    )


def not_voidable(method: str) -> Problem:
    return Problem(
        409,
        "payment-not-voidable",
        "Only cash collected at the desk can be voided",
        "Chỉ hủy được giao dịch thu tại quầy",
        detail=f"a {method} payment is never voided; refund it instead",
        detail_vi="giao dịch trực tuyến không hủy được; hãy hoàn tiền",
    )


def same_officer() -> Problem:
    return Problem(
        403,
        "void-needs-second-officer",
        "A second officer must void the payment",
        "Phải do cán bộ thứ hai hủy giao dịch",
        detail="the officer who recorded the payment may not void it",
        detail_vi="cán bộ đã thu tiền không được tự hủy giao dịch của mình",
    )


def no_unit() -> Problem:
    return Problem(
        403,
        "officer-without-unit",
        "The token names no unit",
        "Tài khoản cán bộ chưa gắn với đơn vị",
        detail="a cash desk belongs to a unit; the token carries no unit_path",
        detail_vi="quầy thu thuộc một đơn vị; mã truy cập không có đơn vị",
    )


def other_officers_closes() -> Problem:
    return Problem(
        403,
        "forbidden",
        "Forbidden",
        "Không có quyền",
        detail="an officer sees their own cash closes; finance and supervisors see their unit's",
        detail_vi="cán bộ chỉ xem chốt quỹ của mình; kế toán, lãnh đạo xem của đơn vị",
    )
