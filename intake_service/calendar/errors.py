"""Problems of the calendar and the deadline answer, each with Vietnamese beside the English.
The 422s name the field that is wrong."""

from __future__ import annotations

import datetime as dt

from shared.errors import Problem


def _field(field: str, message: str, message_vi: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message, "message_vi": message_vi}]


class CalendarDateOutsideYear(Problem):
    status = 422
    code = "calendar-date-outside-year"
    title = "The date is not in this year"
    title_vi = "Ngày không thuộc năm của lịch"

    def __init__(self, year: int, day: dt.date) -> None:
        super().__init__(
            errors=_field(
                "path.date",
                f"{day.isoformat()} is not in {year}",
                f"ngày {day:%d/%m/%Y} không thuộc năm {year}",
            )
        )


class WorkingDayNotOnWeekend(Problem):
    status = 422
    code = "working-day-not-on-weekend"
    title = "Only a Saturday or Sunday can be declared a working day"
    title_vi = "Chỉ thứ Bảy hoặc Chủ nhật mới được khai báo là ngày làm việc bù"

    def __init__(self, day: dt.date) -> None:
        super().__init__(
            errors=_field(
                "body.kind",
                f"{day.isoformat()} is a weekday, a working day already",
                f"ngày {day:%d/%m/%Y} là ngày thường, vốn đã là ngày làm việc",
            )
        )


class DeadlineNeedsOneDuration(Problem):
    status = 422
    code = "deadline-needs-one-duration"
    title = "Give either working_days or procedure_key"
    title_vi = "Cần đúng một trong hai: working_days hoặc procedure_key"

    def __init__(self) -> None:
        super().__init__(
            errors=_field(
                "query.working_days",
                "exactly one of working_days and procedure_key is required",
                "cần đúng một trong hai tham số working_days hoặc procedure_key",
            )
        )


class UnknownProcedure(Problem):
    status = 422
    code = "unknown-procedure"
    title = "Unknown procedure"
    title_vi = "Không có thủ tục này"

    def __init__(self) -> None:
        super().__init__(
            errors=_field(
                "query.procedure_key", "no procedure with this key", "không có thủ tục với mã này"
            )
        )


class CalendarDayNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such calendar day"
    title_vi = "Không tìm thấy ngày trong lịch"
