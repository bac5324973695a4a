"""Events published by intake on ``intake.dossiers.v1`` and ``intake.catalogue.v1``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.events import topics
from shared.events.base import Event

Channel = Literal["online", "direct", "postal", "integration"]


class DossierReceived(Event):
    """Tiếp nhận hồ sơ: a complete dossier was received; the legal clock starts."""

    event_type = "vn.motcua.dossier.received.v1"
    topic = topics.DOSSIERS
    summary = "A dossier was received at a one-stop desk or through an online, postal or integration channel."

    dossier_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ")
    procedure_code: str = Field(description="mã thủ tục hành chính")
    procedure_name: str
    unit_code: str = Field(description="mã đơn vị hành chính tiếp nhận")
    unit_path: str = Field(description="đường dẫn đơn vị, từ tỉnh xuống")
    channel: Channel = Field(description="kênh nộp: trực tuyến, trực tiếp, bưu chính, tích hợp")
    received_at: dt.datetime
    appointment_at: dt.datetime = Field(description="hạn trả kết quả")
    processing_working_days: float
    fee_amount_vnd: int = Field(ge=0, description="phí, lệ phí phải nộp")
    applicant_name: str


class ProcedurePublished(Event):
    """A catalogue entry was created or changed; keyed by procedure key (compacted topic)."""

    event_type = "vn.motcua.procedure.published.v1"
    topic = topics.CATALOGUE
    summary = "A procedure of the catalogue was published or changed."

    procedure_key: str
    code: str | None
    name: str
    field: str
    version: int
    processing_working_days: float
    fee_amount_vnd: int

    def partition_key(self) -> str:
        return self.procedure_key
