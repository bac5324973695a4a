"""Working-day calendar routes: read a year (public), let ops record the government's
announcements, and answer "what appointment would the desk give" for any instant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from intake_service.calendar import service
from intake_service.calendar.errors import (
    CalendarDateOutsideYear,
    CalendarDayNotFound,
    DeadlineNeedsOneDuration,
    UnknownProcedure,
    WorkingDayNotOnWeekend,
)
from intake_service.calendar.schemas import CalendarDayIn, CalendarYearOut, DeadlineOut
from intake_service.calendar.service import Cache
from shared.bounds import BoundedAwareDatetime, BoundedDate
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Ops, RuntimeDep, Session

router = APIRouter(
    prefix="/v1/calendar", tags=["calendar"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)

FIRST_YEAR, LAST_YEAR = 2000, 2100
YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="năm", examples=[2026])]
DatePath = Annotated[BoundedDate, Path(description="ngày (YYYY-MM-DD)", examples=["2026-02-21"])]


# Declared before ``/{year}`` so that "deadline" is never read as a year.
@router.get(
    "/deadline",
    response_model=DeadlineOut,
    responses=problem_responses(DeadlineNeedsOneDuration, UnknownProcedure),
    summary="The appointment the desk would give",
    description=(
        "Ngày hẹn trả kết quả mà Bộ phận Một cửa sẽ ghi trên giấy tiếp nhận nếu hồ sơ được tiếp "
        "nhận tại thời điểm `from` (mặc định: bây giờ), với thời hạn `working_days` ngày làm việc "
        "hoặc thời hạn của thủ tục `procedure_key`. Dùng đúng lịch và đúng cách tính của khi tiếp "
        "nhận: ngày tiếp nhận không tính; nhận từ 17 giờ hoặc vào ngày nghỉ thì tính từ ngày làm "
        "việc tiếp theo; hạn là 17 giờ ngày làm việc cuối. Ví dụ: nhận 16:30 thứ Sáu 24/4/2026, "
        "5 ngày làm việc (nghỉ 25–27/4, 30/4, 1/5) → 17:00 thứ Tư 6/5/2026. Thủ tục quy định "
        "thời hạn theo giờ (`working_hours`) được tính theo giờ làm việc (7:30–11:30, "
        "13:30–17:00): 4 giờ làm việc từ 15:00 thứ Sáu → 9:30 thứ Hai tuần sau."
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
    return await service.deadline(session, cache, from_ or now, working_days, procedure_key)


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
    return await service.read_year(session, runtime.outbox, year)


@router.put(
    "/{year}/days/{date}",
    response_model=CalendarYearOut,
    responses=problem_responses(CalendarDateOutsideYear, WorkingDayNotOnWeekend),
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
    return await service.set_day(session, runtime.outbox, cache, principal, year, date, body, now)


@router.delete(
    "/{year}/days/{date}",
    response_model=CalendarYearOut,
    responses=problem_responses(CalendarDateOutsideYear, CalendarDayNotFound),
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
    return await service.remove_day(session, runtime.outbox, cache, principal, year, date)
