"""Working-day calendar routes: read a year (public), let ops record the government's
announcements, and answer "what appointment would the desk give" for any instant.

The deadline answer and reception share everything: the cache below, the stored calendar and
``intake_service.domain.reception.appointment``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import calendar as stored
from intake_service.db.models import Procedure
from intake_service.domain.reception import appointment, same_day_cutoff
from shared.auth import Principal, require_roles
from shared.bounds import BoundedAwareDatetime, BoundedDate
from shared.calendar import VN_TZ, DayKind, WorkingCalendar
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, Problem, not_found
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(prefix="/v1/calendar", tags=["calendar"], responses=PROBLEM_RESPONSES)

KIND_LABELS_VI = {
    DayKind.HOLIDAY: "ngày lễ",
    DayKind.COMPENSATORY_DAY_OFF: "ngày nghỉ bù",
    DayKind.WORKING_DAY: "ngày làm việc bù",
}
FIRST_YEAR, LAST_YEAR = 2000, 2100


def calendar_cache(request: Request) -> stored.CalendarCache:
    """The app's calendar cache, made on first use from the running service's database."""
    cache: stored.CalendarCache | None = getattr(request.app.state, "calendar_cache", None)
    if cache is None:
        runtime: Runtime = request.app.state.runtime
        cache = stored.CalendarCache(runtime.sessionmaker, runtime.outbox)
        request.app.state.calendar_cache = cache
    return cache


Cache = Annotated[stored.CalendarCache, Depends(calendar_cache)]


async def reception_calendar(cache: Cache, now: Now) -> WorkingCalendar:
    """The calendar a dossier received now is counted on (a dependency of the reception routes)."""
    return await cache.for_deadline(now, 0)


ReceptionCalendar = Annotated[WorkingCalendar, Depends(reception_calendar)]


class CalendarDayOut(BaseModel):
    date: dt.date
    kind: DayKind = Field(description="loại ngày")
    kind_label_vi: str
    name: str = Field(description="tên ngày (ví dụ: Giỗ Tổ Hùng Vương, nghỉ bù)")
    source: str = Field(
        description="base: lịch theo luật (thư viện holidays); ops: do vận hành nhập theo thông báo"
    )
    updated_by: str | None = None
    updated_at: dt.datetime


class CalendarYearOut(BaseModel):
    """Lịch làm việc của một năm: những ngày khác với nhịp thứ Hai–thứ Sáu."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "entries": [
                        {
                            "date": "2026-02-16",
                            "kind": "holiday",
                            "kind_label_vi": "ngày lễ",
                            "name": "Giao thừa Tết Nguyên Đán",
                            "source": "base",
                            "updated_by": None,
                            "updated_at": "2026-01-02T01:00:00Z",
                        },
                        {
                            "date": "2026-08-22",
                            "kind": "working_day",
                            "kind_label_vi": "ngày làm việc bù",
                            "name": "Làm việc bù cho ngày nghỉ 31/08/2026",
                            "source": "base",
                            "updated_by": None,
                            "updated_at": "2026-01-02T01:00:00Z",
                        },
                    ],
                }
            ]
        }
    )

    year: int
    entries: list[CalendarDayOut]


class CalendarDayIn(BaseModel):
    """Ngày do vận hành nhập theo thông báo của Chính phủ."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"kind": "compensatory_day_off", "name": "Nghỉ Tết Nguyên Đán (hoán đổi)"},
                {"kind": "working_day", "name": "Làm việc bù cho ngày nghỉ Tết"},
            ]
        },
    )

    kind: DayKind = Field(
        description="holiday: ngày lễ; compensatory_day_off: ngày nghỉ bù; "
        "working_day: thứ Bảy hoặc Chủ nhật làm việc bù"
    )
    name: str | None = Field(
        None, max_length=200, description="tên ngày; bỏ trống dùng tên mặc định"
    )


class DeadlineOut(BaseModel):
    """Ngày hẹn trả kết quả cho hồ sơ tiếp nhận tại thời điểm đã cho."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "received_at": "2026-04-24T16:30:00+07:00",
                    "working_days": 5,
                    "procedure_key": None,
                    "appointment_at": "2026-05-06T17:00:00+07:00",
                    "appointment_date": "2026-05-06",
                }
            ]
        }
    )

    received_at: dt.datetime = Field(description="thời điểm tiếp nhận")
    working_days: float = Field(description="thời hạn giải quyết (ngày làm việc)")
    procedure_key: str | None = None
    appointment_at: dt.datetime = Field(description="hạn trả kết quả (giờ Việt Nam)")
    appointment_date: dt.date = Field(description="ngày hẹn trả kết quả")


def _year_out(year: int, days: list[stored.StoredDay]) -> CalendarYearOut:
    return CalendarYearOut(
        year=year,
        entries=[
            CalendarDayOut(
                date=d.day,
                kind=d.kind,
                kind_label_vi=KIND_LABELS_VI[d.kind],
                name=d.name,
                source=d.source,
                updated_by=d.updated_by,
                updated_at=d.updated_at,
            )
            for d in days
        ],
    )


def _invalid(
    field: str, code: str, title: str, title_vi: str, message: str, message_vi: str
) -> Problem:
    return Problem(
        422,
        code,
        title,
        title_vi,
        errors=[{"field": field, "message": message, "message_vi": message_vi}],
    )


def _check_in_year(year: int, day: dt.date) -> None:
    if day.year != year:
        raise _invalid(
            "path.date",
            "calendar-date-outside-year",
            "The date is not in this year",
            "Ngày không thuộc năm của lịch",
            f"{day.isoformat()} is not in {year}",
            f"ngày {day:%d/%m/%Y} không thuộc năm {year}",
        )


YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="năm", examples=[2026])]
DatePath = Annotated[BoundedDate, Path(description="ngày (YYYY-MM-DD)", examples=["2026-02-21"])]
Ops = Annotated[Principal, Depends(require_roles("ops"))]
Session = Annotated[AsyncSession, Depends(db_session)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


# Declared before ``/{year}`` so that "deadline" is never read as a year.
@router.get(
    "/deadline",
    response_model=DeadlineOut,
    summary="The appointment the desk would give",
    description=(
        "Ngày hẹn trả kết quả mà Bộ phận Một cửa sẽ ghi trên giấy tiếp nhận nếu hồ sơ được tiếp "
        "nhận tại thời điểm `from` (mặc định: bây giờ), với thời hạn `working_days` ngày làm việc "
        "hoặc thời hạn của thủ tục `procedure_key`. Dùng đúng lịch và đúng cách tính của khi tiếp "
        "nhận: ngày tiếp nhận không tính; nhận từ 17 giờ hoặc vào ngày nghỉ thì tính từ ngày làm "
        "việc tiếp theo; hạn là 17 giờ ngày làm việc cuối. Ví dụ: nhận 16:30 thứ Sáu 24/4/2026, "
        "5 ngày làm việc (nghỉ 25–27/4, 30/4, 1/5) → 17:00 thứ Tư 6/5/2026."
    ),
)
async def deadline(
    cache: Cache,
    session: Session,
    now: Now,
    from_: Annotated[
        BoundedAwareDatetime | None,
        Query(
            alias="from",
            description="thời điểm tiếp nhận, ISO 8601 có múi giờ",
            examples=["2026-04-24T16:30:00+07:00"],
        ),
    ] = None,
    working_days: Annotated[
        float | None, Query(ge=0, le=1000, description="thời hạn giải quyết (ngày làm việc)")
    ] = None,
    procedure_key: Annotated[
        str | None, Query(max_length=128, description="mã thủ tục trong danh mục")
    ] = None,
) -> DeadlineOut:
    if (working_days is None) == (procedure_key is None):
        raise _invalid(
            "query.working_days",
            "deadline-needs-one-duration",
            "Give either working_days or procedure_key",
            "Cần đúng một trong hai: working_days hoặc procedure_key",
            "exactly one of working_days and procedure_key is required",
            "cần đúng một trong hai tham số working_days hoặc procedure_key",
        )
    cutoff = None
    if procedure_key is not None:
        async with session.begin():
            procedure = await session.get(Procedure, procedure_key)
        if procedure is None:
            raise _invalid(
                "query.procedure_key",
                "unknown-procedure",
                "Unknown procedure",
                "Không có thủ tục này",
                "no procedure with this key",
                "không có thủ tục với mã này",
            )
        working_days = procedure.processing_working_days
        cutoff = same_day_cutoff(procedure.data.get("processing", {}))
    assert working_days is not None
    received_at = from_ or now
    calendar = await cache.for_deadline(received_at, working_days)
    due = appointment(calendar, received_at, working_days, cutoff).astimezone(VN_TZ)
    return DeadlineOut(
        received_at=received_at,
        working_days=working_days,
        procedure_key=procedure_key,
        appointment_at=due,
        appointment_date=due.date(),
    )


@router.get(
    "/{year}",
    response_model=CalendarYearOut,
    summary="Read a year's calendar",
    description=(
        "Lịch làm việc của một năm (công khai): ngày lễ, ngày nghỉ bù, thứ Bảy làm việc bù, với "
        "nguồn (`base`: theo luật, `ops`: theo thông báo do vận hành nhập). Năm chưa có được nạp "
        "từ lịch theo luật khi đọc lần đầu."
    ),
)
async def read_year(year: YearPath, session: Session, runtime: RuntimeDep) -> CalendarYearOut:
    async with session.begin():
        await stored.ensure_base_years(session, runtime.outbox, [year])
        days = await stored.year_days(session, year)
    return _year_out(year, days)


@router.put(
    "/{year}/days/{date}",
    response_model=CalendarYearOut,
    summary="Set what a day is",
    description=(
        "Vận hành ghi một ngày theo thông báo của Chính phủ: ngày lễ, ngày nghỉ bù (ví dụ ngày "
        "hoán đổi dịp Tết) hoặc thứ Bảy/Chủ nhật làm việc bù (chỉ cho ngày cuối tuần). Có hiệu lực "
        "ngay cho các hồ sơ tiếp nhận sau đó; sự kiện `vn.motcua.calendar.changed.v1` mang cả năm "
        "được phát lên topic `intake.catalogue.v1` (khóa `calendar-<năm>`)."
    ),
)
async def set_day(
    year: YearPath,
    date: DatePath,
    body: CalendarDayIn,
    principal: Ops,
    session: Session,
    runtime: RuntimeDep,
    cache: Cache,
    now: Now,
) -> CalendarYearOut:
    _check_in_year(year, date)
    if body.kind is DayKind.WORKING_DAY and date.weekday() < 5:
        raise _invalid(
            "body.kind",
            "working-day-not-on-weekend",
            "Only a Saturday or Sunday can be declared a working day",
            "Chỉ thứ Bảy hoặc Chủ nhật mới được khai báo là ngày làm việc bù",
            f"{date.isoformat()} is a weekday, a working day already",
            f"ngày {date:%d/%m/%Y} là ngày thường, vốn đã là ngày làm việc",
        )
    async with session.begin():
        days = await stored.set_day(
            session, runtime.outbox, date, body.kind, body.name or "", principal.sub, now
        )
    cache.invalidate()
    return _year_out(year, days)


@router.delete(
    "/{year}/days/{date}",
    response_model=CalendarYearOut,
    summary="Make a day ordinary again",
    description=(
        "Vận hành xóa một ngày khỏi lịch (ví dụ ngày nghỉ bù theo luật mà thông báo năm đó không "
        "xác nhận): ngày đó trở lại theo thứ trong tuần. Ngày đã xóa không bị nạp lại từ lịch theo luật."
    ),
)
async def remove_day(
    year: YearPath,
    date: DatePath,
    principal: Ops,
    session: Session,
    runtime: RuntimeDep,
    cache: Cache,
) -> CalendarYearOut:
    _check_in_year(year, date)
    async with session.begin():
        days = await stored.remove_day(session, runtime.outbox, date, principal.sub)
        if days is None:
            raise not_found("calendar day", "ngày trong lịch")
    cache.invalidate()
    return _year_out(year, days)
