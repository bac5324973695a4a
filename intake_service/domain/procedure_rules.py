"""A procedure's rules, typed: the catalogue's JSON (``Procedure.data``) parsed once into
:class:`ProcedureRules`, which every rule of intake takes instead of a raw dict.

Processing time is in working days, or in working hours for the procedures the law times in
hours; a same-day procedure may have a cutoff after which it is resolved the next working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.calendar import WorkingCalendar
from shared.vocabulary import Channel


class ProcessingRules(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    working_days: float = Field(0, ge=0, description="thời hạn giải quyết (ngày làm việc)")
    working_hours: float | None = Field(None, ge=0, description="thời hạn tính theo giờ làm việc")
    same_day: bool = False
    same_day_cutoff: dt.time | None = None
    extended_working_days: float | None = Field(None, ge=0)
    check: bool = Field(False, description="hồ sơ phải qua bước kiểm tra trước khi tiếp nhận")

    @field_validator("same_day_cutoff", mode="before")
    @classmethod
    def _cutoff(cls, value: Any) -> Any:
        # An unreadable cutoff in an old catalogue entry means "no cutoff", as it always did.
        if isinstance(value, str):
            try:
                return dt.time.fromisoformat(value)
            except ValueError:
                return None
        return value

    @property
    def cutoff(self) -> dt.time | None:
        """The hour after which a same-day procedure is resolved the next working day."""
        return self.same_day_cutoff if self.same_day else None

    @property
    def in_hours(self) -> bool:
        return self.working_hours is not None and self.working_hours > 0

    def due(self, calendar: WorkingCalendar, received_at: dt.datetime) -> dt.datetime:
        """The appointment: ``working_hours`` of office time from receipt when the procedure is
        timed in hours, else ``working_days`` working days (with the same-day cutoff)."""
        if self.in_hours:
            assert self.working_hours is not None
            return calendar.add_working_hours(received_at, self.working_hours)
        return calendar.add_working_days(received_at, self.working_days, cutoff=self.cutoff)

    def total_working_days(self, calendar: WorkingCalendar) -> float:
        """The processing time in working days, hours converted by the calendar's day length."""
        if self.in_hours:
            assert self.working_hours is not None
            day_hours = calendar.working_day_length / dt.timedelta(hours=1)
            return self.working_hours / day_hours
        return self.working_days


class FeeRule(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = "Lệ phí"
    amount_vnd: int | None = None
    online_amount_vnd: int | None = None

    def amount_for(self, channel: Channel | str) -> int:
        if channel == Channel.online and self.online_amount_vnd is not None:
            return self.online_amount_vnd
        return int(self.amount_vnd or 0)


class ComponentRule(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    kind: str | None = None
    # How many copies, and whether the original (bản chính) or a copy (bản sao), as the slip
    # prints them.
    count: int | None = None
    original: bool | None = None


class ProcedureRules(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    processing: ProcessingRules = ProcessingRules()
    fees: tuple[FeeRule, ...] = ()
    components: tuple[ComponentRule, ...] = ()

    @field_validator("components", mode="before")
    @classmethod
    def _components(cls, value: Any) -> Any:
        # The catalogue names a component by its name alone, or as {name, kind}.
        if isinstance(value, list | tuple):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> ProcedureRules:
        return cls.model_validate(data or {})

    def fee_amount(self, channel: Channel | str) -> int:
        return sum(fee.amount_for(channel) for fee in self.fees)
