"""The words every service uses for the same thing, once: events, API schemas, ORM columns and
metrics all take these enums, so a channel or a timeliness class cannot be spelt two ways.

Each enum has its Vietnamese labels beside it (``label_vi``), the words a slip, a control sheet
or a report prints."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a dossier reached the one-stop desk (kênh nộp hồ sơ)."""

    online = "online"
    direct = "direct"
    postal = "postal"
    integration = "integration"

    @property
    def label_vi(self) -> str:
        return CHANNEL_LABELS_VI[self]


CHANNEL_LABELS_VI = {
    Channel.online: "Trực tuyến",
    Channel.direct: "Trực tiếp tại Bộ phận Một cửa",
    Channel.postal: "Qua dịch vụ bưu chính công ích",
    Channel.integration: "Qua hệ thống tích hợp (LGSP/NGSP)",
}


class Timeliness(StrEnum):
    """How a finished dossier or step stood against its due instant (see
    :func:`shared.deadlines.timeliness`)."""

    early = "early"  # trước hạn
    on_time = "on_time"  # đúng hạn
    late = "late"  # trễ hạn

    @property
    def label_vi(self) -> str:
        return TIMELINESS_LABELS_VI[self]


TIMELINESS_LABELS_VI = {
    Timeliness.early: "Trước hạn",
    Timeliness.on_time: "Đúng hạn",
    Timeliness.late: "Trễ hạn",
}


class AgencyKind(StrEnum):
    """The kinds of agency a route step names (loại cơ quan); the concrete agency of a case's
    unit is chosen when the step starts."""

    one_stop_desk = "one_stop_desk"
    commune_justice = "commune_justice"
    specialist_office = "specialist_office"
    public_service_centre = "public_service_centre"
    land_registration_office = "land_registration_office"
    tax_authority = "tax_authority"
    police = "police"
    social_insurance = "social_insurance"
    department = "department"
    other = "other"

    @property
    def label_vi(self) -> str:
        return AGENCY_KIND_LABELS_VI[self]


# The one spelling of each kind's name; an agency's own name is this label and its unit's name.
AGENCY_KIND_LABELS_VI = {
    AgencyKind.one_stop_desk: "Bộ phận Một cửa",
    AgencyKind.commune_justice: "Tư pháp - Hộ tịch",
    AgencyKind.specialist_office: "Phòng chuyên môn",
    AgencyKind.public_service_centre: "Trung tâm Phục vụ hành chính công",
    AgencyKind.land_registration_office: "Văn phòng Đăng ký đất đai",
    AgencyKind.tax_authority: "Thuế",
    AgencyKind.police: "Công an",
    AgencyKind.social_insurance: "Bảo hiểm xã hội",
    AgencyKind.department: "Sở, ban, ngành",
    AgencyKind.other: "Cơ quan",
}


class RatingChannel(StrEnum):
    """Where a satisfaction rating was given (kênh đánh giá)."""

    online = "online"
    qr = "qr"
    survey = "survey"

    @property
    def label_vi(self) -> str:
        return RATING_CHANNEL_LABELS_VI[self]


RATING_CHANNEL_LABELS_VI = {
    RatingChannel.online: "Đánh giá trực tuyến khi nộp hồ sơ",
    RatingChannel.qr: "Đánh giá qua mã QR tại Bộ phận Một cửa",
    RatingChannel.survey: "Hệ thống khảo sát mức độ hài lòng",
}


class PauseReason(StrEnum):
    """Why the processing clock stopped (tạm dừng thời gian giải quyết)."""

    supplement = "supplement"
    financial_obligation = "financial_obligation"

    @property
    def label_vi(self) -> str:
        return PAUSE_REASON_LABELS_VI[self]


PAUSE_REASON_LABELS_VI = {
    PauseReason.supplement: "Yêu cầu bổ sung, hoàn thiện hồ sơ",
    PauseReason.financial_obligation: "Yêu cầu thực hiện nghĩa vụ tài chính",
}
