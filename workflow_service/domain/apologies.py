"""The apology slip (phiếu xin lỗi và hẹn lại ngày trả kết quả, mẫu 04 of Circular
01/2018/TT-VPCP): when a case is or will be late, the agency apologises, gives the reason and
names a new appointment.

The slip changes nothing about how the dossier is judged: it still counts as late against the
appointment it was received with, so the case's own due instant stays where it is and the new
appointment is kept beside it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from shared.calendar import VN_TZ, WorkingCalendar
from shared.deadlines import is_overdue
from shared.pdf import Block, OfficialDocument, Paragraph, SignatureBlock, Signatures
from shared.pdf import Field as Line
from workflow_service.domain.cases import LEADER, STEP_ROLE, CaseStatus, holds
from workflow_service.domain.control_sheet import agency_label_vi

TITLE_VI = "Phiếu xin lỗi và hẹn lại ngày trả kết quả"
DEFAULT_AGENCY_VI = "Bộ phận Một cửa"

# Who may apologise: the officers of the step the case is at, or a leader (lãnh đạo).
ISSUING_ROLES = frozenset({STEP_ROLE, LEADER})


class Lateness(StrEnum):
    overdue = "overdue"  # the appointment had already passed when the slip was issued
    will_be_late = "will_be_late"  # issued ahead, once it was clear the appointment is lost


LATENESS_LABELS_VI = {
    Lateness.overdue: "Đã quá hạn hẹn trả kết quả",
    Lateness.will_be_late: "Dự kiến trễ hạn hẹn trả kết quả",
}


class ApologyRefused(Exception):
    """Base of the reasons an apology cannot be issued."""


class CaseFinished(ApologyRefused):
    """The case is resolved, rejected or withdrawn: there is no appointment left to move."""

    def __init__(self, status: CaseStatus) -> None:
        super().__init__(f"the case is {status}; an apology is only issued while it is in progress")
        self.status = status


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    message_vi: str


class InvalidApology(ApologyRefused):
    """What is wrong with the slip's content, every problem at once."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


def may_issue(officer_roles: frozenset[str], step_role: str | None) -> bool:
    if step_role is None:
        return LEADER in officer_roles
    return holds(ISSUING_ROLES, officer_roles, step_role)


def check(
    *,
    case_status: str,
    due_at: dt.datetime,
    new_appointment_at: dt.datetime,
    reason: str,
    now: dt.datetime,
    calendar: WorkingCalendar,
) -> Lateness:
    """Whether an apology with this content may be issued now; raises :class:`CaseFinished` or
    :class:`InvalidApology`, else tells whether the case is already overdue or will be."""
    status = CaseStatus(case_status)
    if status.is_final:
        raise CaseFinished(status)
    problems: list[FieldProblem] = []
    if not reason.strip():
        problems.append(
            FieldProblem("body.reason", "a reason is required", "Phải nêu lý do chậm trễ")
        )
    new = new_appointment_at
    if new.tzinfo is None or new.utcoffset() is None:
        problems.append(
            FieldProblem(
                "body.new_appointment_at",
                "the new appointment needs a time zone",
                "Thời điểm hẹn mới phải có múi giờ",
            )
        )
    else:
        if new <= due_at:
            due = clock_vi(due_at)
            problems.append(
                FieldProblem(
                    "body.new_appointment_at",
                    f"the new appointment must be after the current one ({due_at.isoformat()})",
                    f"Thời gian hẹn mới phải sau thời gian hẹn hiện tại ({due})",
                )
            )
        if new <= now:
            problems.append(
                FieldProblem(
                    "body.new_appointment_at",
                    "the new appointment must be in the future",
                    "Thời gian hẹn mới phải ở tương lai",
                )
            )
        local_day = new.astimezone(VN_TZ).date()
        if not calendar.is_working_day(local_day):
            problems.append(
                FieldProblem(
                    "body.new_appointment_at",
                    f"{local_day.isoformat()} is not a working day",
                    f"Ngày {local_day.strftime('%d/%m/%Y')} không phải ngày làm việc",
                )
            )
    if problems:
        raise InvalidApology(problems)
    # A new appointment after the current one means the case will be late even if it is not yet;
    # an apology is owed either way, and only the wording of the slip differs.
    return Lateness.overdue if is_overdue(due_at, now) else Lateness.will_be_late


# --- The slip -----------------------------------------------------------------------------------


class CaseRecord(Protocol):
    """What the slip reads of the case (the ``cases`` row has these attributes)."""

    id: uuid.UUID
    dossier_code: str
    procedure_code: str
    procedure_name: str | None
    applicant_name: str | None
    unit_code: str


class ApologyRecord(Protocol):
    """A stored apology (the ``apologies`` row has these attributes)."""

    id: uuid.UUID
    agency_code: str | None
    reason: str
    original_due_at: dt.datetime
    new_appointment_at: dt.datetime
    issued_by: str
    issued_at: dt.datetime


class ApologySlip(BaseModel):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (mẫu 04)."""

    kind: Literal["apology"] = "apology"
    title_vi: str = Field(TITLE_VI, description="tên phiếu theo Thông tư 01/2018/TT-VPCP")
    id: uuid.UUID = Field(description="mã phiếu")
    case_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ")
    procedure_code: str = Field(description="mã thủ tục hành chính")
    procedure_name: str | None = Field(None, description="tên thủ tục hành chính")
    applicant_name: str | None = Field(None, description="người nộp hồ sơ")
    unit_code: str = Field(description="mã đơn vị hành chính tiếp nhận")
    agency_code: str | None = Field(description="cơ quan xin lỗi (cơ quan đang giải quyết)")
    agency_label_vi: str = Field(description="tên cơ quan")
    original_appointment_at: dt.datetime = Field(
        description="thời gian hẹn trả kết quả ban đầu (hồ sơ vẫn được tính trễ hạn theo mốc này)"
    )
    new_appointment_at: dt.datetime = Field(description="thời gian hẹn trả kết quả mới")
    reason: str = Field(description="lý do chậm trễ")
    officer: str = Field(description="cán bộ lập phiếu")
    issued_at: dt.datetime = Field(description="thời điểm lập phiếu")
    lateness: Lateness = Field(description="overdue: đã quá hạn; will_be_late: dự kiến trễ hạn")
    lateness_label_vi: str


def lateness_of(apology: ApologyRecord) -> Lateness:
    return (
        Lateness.overdue
        if is_overdue(apology.original_due_at, apology.issued_at)
        else Lateness.will_be_late
    )


def build_slip(case: CaseRecord, apology: ApologyRecord) -> ApologySlip:
    """The slip of a stored apology; instants are shown in Vietnam's time, as the form prints
    them."""
    lateness = lateness_of(apology)
    return ApologySlip(
        id=apology.id,
        case_id=case.id,
        dossier_code=case.dossier_code,
        procedure_code=case.procedure_code,
        procedure_name=case.procedure_name,
        applicant_name=case.applicant_name,
        unit_code=case.unit_code,
        agency_code=apology.agency_code,
        agency_label_vi=agency_label_vi(apology.agency_code) or DEFAULT_AGENCY_VI,
        original_appointment_at=apology.original_due_at.astimezone(VN_TZ),
        new_appointment_at=apology.new_appointment_at.astimezone(VN_TZ),
        reason=apology.reason,
        officer=apology.issued_by,
        issued_at=apology.issued_at.astimezone(VN_TZ),
        lateness=lateness,
        lateness_label_vi=LATENESS_LABELS_VI[lateness],
    )


def clock_vi(at: dt.datetime) -> str:
    """``16 giờ 30 phút, ngày 05 tháng 3 năm 2026`` in Vietnam's time."""
    local = at.astimezone(VN_TZ)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return (
        f"{local.hour:02d} giờ {local.minute:02d} phút, "
        f"ngày {local.day:02d} tháng {month} năm {local.year}"
    )


def apology_document(slip: ApologySlip) -> OfficialDocument:
    """The slip laid out as form 04: what was promised, why it is not kept, the new appointment."""
    agency = slip.agency_label_vi
    if slip.lateness is Lateness.overdue:
        situation = (
            f"Đến nay, {agency} chưa trả được kết quả giải quyết hồ sơ của Ông/Bà/Tổ chức "
            "đúng thời gian đã hẹn."
        )
    else:
        situation = (
            f"{agency} không thể trả kết quả giải quyết hồ sơ của Ông/Bà/Tổ chức đúng thời "
            "gian đã hẹn."
        )
    addressee = (
        f"Ông/Bà/Tổ chức {slip.applicant_name}"
        if slip.applicant_name
        else f"Ông/Bà/Tổ chức có hồ sơ mã {slip.dossier_code}"
    )
    procedure = (
        f"thủ tục {slip.procedure_name}, mã {slip.procedure_code}"
        if slip.procedure_name
        else f"thủ tục hành chính mã {slip.procedure_code}"
    )
    blocks: list[Block] = [
        Paragraph(f"Kính gửi: {addressee}.", bold=True),
        Paragraph(
            f"{agency} đã tiếp nhận, giải quyết hồ sơ mã {slip.dossier_code} của Ông/Bà/Tổ chức "
            f"({procedure}), hẹn trả kết quả vào "
            f"{clock_vi(slip.original_appointment_at)}."
        ),
        Paragraph(situation),
        Line("Lý do", slip.reason),
        Paragraph(
            f"Sự chậm trễ này đã gây phiền hà cho Ông/Bà/Tổ chức. {agency} trân trọng xin lỗi "
            "Ông/Bà/Tổ chức và hẹn lại thời gian trả kết quả giải quyết hồ sơ như sau:"
        ),
        Line("Thời gian hẹn trả kết quả ban đầu", clock_vi(slip.original_appointment_at)),
        Line("Thời gian hẹn trả kết quả mới", clock_vi(slip.new_appointment_at)),
        Paragraph("Xin trân trọng cảm ơn sự hợp tác của Ông/Bà/Tổ chức./."),
        Signatures(
            (
                SignatureBlock("NGƯỜI LẬP PHIẾU", name=slip.officer),
                SignatureBlock("THỦ TRƯỞNG CƠ QUAN", hint="(Ký, ghi rõ họ tên, đóng dấu)"),
            )
        ),
    ]
    return OfficialDocument(
        issuer=(f"ĐƠN VỊ HÀNH CHÍNH MÃ {slip.unit_code}", agency.upper()),
        title=TITLE_VI.upper(),
        subtitle=f"Mã hồ sơ: {slip.dossier_code}",
        issued_at=slip.issued_at,
        number=slip.dossier_code,
        blocks=tuple(blocks),
        subject=f"{TITLE_VI} — {slip.dossier_code}",
        author=agency,
    )
