"""Events published by intake on ``intake.dossiers.v1`` and ``intake.catalogue.v1``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import topics
from shared.events.base import Event
from shared.vocabulary import Channel, RatingChannel


class FeeLine(BaseModel):
    """One fee or charge of a procedure, as charged for this dossier's channel."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="mã khoản thu")
    kind: Literal["fee", "charge", "financial_obligation"] = Field(
        description="phí (fee), lệ phí (charge), nghĩa vụ tài chính"
    )
    name: str
    amount_vnd: int = Field(ge=0)


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
    processing_working_hours: float | None = Field(
        None, description="thời hạn tính theo giờ làm việc, với thủ tục quy định theo giờ"
    )
    fee_amount_vnd: int = Field(ge=0, description="phí, lệ phí phải nộp")
    applicant_name: str
    procedure_key: str | None = Field(None, description="mã thủ tục trong danh mục của hệ thống")
    procedure_version: int | None = Field(None, description="phiên bản thủ tục khi tiếp nhận")
    fee_lines: list[FeeLine] = Field(
        default_factory=list, description="các khoản phí, lệ phí (tổng bằng fee_amount_vnd)"
    )
    applicant_ref: str | None = Field(
        None,
        description="sha256 của số định danh người nộp: đủ để người nộp xem khoản phải nộp của "
        "mình, không để lộ số định danh",
    )


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
    processing_working_hours: float | None = Field(
        None, description="thời hạn tính theo giờ làm việc, với thủ tục quy định theo giờ"
    )
    fee_amount_vnd: int
    route: list[dict[str, Any]] | None = Field(
        None, description="quy trình liên thông: các bước, cơ quan, tỷ lệ thời gian"
    )
    retired: bool = Field(False, description="thủ tục đã ngừng áp dụng")

    def partition_key(self) -> str:
        return self.procedure_key


class DossierEvent(Event):
    """Fields every lifecycle event of a dossier carries, so consumers need no lookup."""

    dossier_id: uuid.UUID
    dossier_code: str
    procedure_code: str
    unit_code: str
    unit_path: str
    channel: Channel
    at: dt.datetime
    actor: str


class DossierSubmitted(DossierEvent):
    """Nộp hồ sơ: a dossier arrived and awaits the desk's check."""

    event_type = "vn.motcua.dossier.submitted.v1"
    topic = topics.DOSSIERS
    summary = "A dossier was submitted and awaits checking at the one-stop desk."


class DossierSupplementRequested(DossierEvent):
    """Yêu cầu bổ sung, hoàn thiện hồ sơ, listing every missing or wrong component."""

    event_type = "vn.motcua.dossier.supplement_requested.v1"
    topic = topics.DOSSIERS
    summary = "The desk asked the applicant to supplement the dossier."

    items: list[str]


class DossierSupplemented(DossierEvent):
    """Bổ sung hồ sơ: the applicant supplemented. Before reception the dossier is checked
    again; during processing (``during_processing``) workflow resumes the paused case, its
    clock restarting at ``at``."""

    event_type = "vn.motcua.dossier.supplemented.v1"
    topic = topics.DOSSIERS
    summary = "The applicant supplemented the dossier."

    during_processing: bool = Field(
        False, description="bổ sung theo yêu cầu của cơ quan giải quyết (hồ sơ đã tiếp nhận)"
    )
    note: str | None = Field(None, description="nội dung bổ sung, giải trình")
    document_ids: list[uuid.UUID] = Field(
        default_factory=list, description="giấy tờ bổ sung (đã đính kèm vào hồ sơ)"
    )


class DossierRefused(DossierEvent):
    """Từ chối tiếp nhận giải quyết hồ sơ, with the reason."""

    event_type = "vn.motcua.dossier.refused.v1"
    topic = topics.DOSSIERS
    summary = "The desk refused to receive the dossier."

    reason: str


class DossierWithdrawn(DossierEvent):
    """Rút hồ sơ at the applicant's request."""

    event_type = "vn.motcua.dossier.withdrawn.v1"
    topic = topics.DOSSIERS
    summary = "The applicant withdrew the dossier."

    reason: str | None = None
    was_received: bool


class DossierReturned(DossierEvent):
    """Trả kết quả: the result was handed to the applicant."""

    event_type = "vn.motcua.dossier.returned.v1"
    topic = topics.DOSSIERS
    summary = "The result was handed over to the applicant."


class DossierDigitised(DossierEvent):
    """Số hóa hồ sơ đầu vào: every required component of the dossier now has a digitised copy."""

    event_type = "vn.motcua.dossier.digitised.v1"
    topic = topics.DOSSIERS
    summary = "Every required component of the dossier was digitised (input digitisation)."

    components: list[str] = Field(description="thành phần hồ sơ đã số hóa")


class DossierRated(DossierEvent):
    """Đánh giá mức độ hài lòng: one rating of a dossier by one rating channel. ``channel`` stays
    the submission channel; ``rating_channel`` says where the rating came from. Scores run 1 (rất
    không hài lòng) to 5 (rất hài lòng); 4 and 5 count as satisfied."""

    event_type = "vn.motcua.dossier.rated.v1"
    topic = topics.DOSSIERS
    summary = "A dossier was rated for satisfaction (online, QR code at the desk, or survey)."

    rating_channel: RatingChannel = Field(
        description="kênh đánh giá: trực tuyến, mã QR tại quầy, hệ thống khảo sát"
    )
    score: int = Field(ge=1, le=5, description="điểm 1 (rất không hài lòng) … 5 (rất hài lòng)")
    satisfied: bool = Field(description="hài lòng (điểm 4 hoặc 5)")
