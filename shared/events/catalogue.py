"""Agencies as events on the compacted ``intake.catalogue.v1`` topic.

Intake owns the agencies of every unit (the one-stop desk, the ward's offices, the province's
land registration office …). Each change publishes the agency's whole current entry, keyed
``agency-<code>``, so a consumer that reads the topic after compaction still knows every agency:
workflow assigns steps to them, checks transfers against them and prints their names.
"""

from __future__ import annotations

from pydantic import Field

from shared.events import topics
from shared.events.base import Event
from shared.vocabulary import AgencyKind


def agency_key(code: str) -> str:
    return f"agency-{code}"


class AgencyChanged(Event):
    """Một cơ quan được tạo, đổi tên hoặc ngừng hoạt động; the agency's whole entry."""

    event_type = "vn.motcua.agency.changed.v1"
    topic = topics.CATALOGUE
    summary = "An agency was created, renamed or retired; the event carries its whole entry."

    agency_code: str = Field(examples=["vpdkdd-01"])
    name: str = Field(examples=["Văn phòng Đăng ký đất đai Thành phố Hà Nội"])
    kind: AgencyKind
    unit_code: str = Field(examples=["01"])
    unit_path: str = Field(examples=["01"], description="đường dẫn đơn vị trong cây đơn vị")
    retired: bool = Field(False, description="cơ quan đã ngừng hoạt động")

    def partition_key(self) -> str:
        return agency_key(self.agency_code)
