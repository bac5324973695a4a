"""Workflow's documents: the apology slip's rules and content (mẫu 04), the process control sheet
read from the action log (mẫu 05), and both printed as PDF."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass

import pypdf
import pytest

from shared.calendar import VN_TZ, WorkingCalendar
from shared.holidays_vn import vietnam_base_year
from shared.pdf import render_pdf
from shared.vocabulary import Timeliness
from workflow_service.domain.apologies import (
    CaseFinished,
    InvalidApology,
    Lateness,
    apology_document,
    build_slip,
    check,
    may_issue,
)
from workflow_service.domain.control_sheet import (
    CaseHeading,
    agency_label_vi,
    control_sheet_document,
    handoffs,
)


def vn(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


CALENDAR = WorkingCalendar.from_years(vietnam_base_year(y) for y in (2026, 2027))
DUE = vn(2026, 3, 19, 17)  # Thursday
BEFORE_DUE = vn(2026, 3, 18, 10, 15)
AFTER_DUE = vn(2026, 3, 20, 8, 30)
NEW = vn(2026, 3, 26, 17)  # Thursday the week after
REASON = "Chờ kết quả đo đạc lại ranh giới thửa đất số 125, tờ bản đồ số 8"


def checked(**overrides: object) -> Lateness:
    args: dict[str, object] = {
        "case_status": "open",
        "due_at": DUE,
        "new_appointment_at": NEW,
        "reason": REASON,
        "now": BEFORE_DUE,
        "calendar": CALENDAR,
    }
    args.update(overrides)
    return check(**args)  # type: ignore[arg-type]


def problems(**overrides: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidApology) as caught:
        checked(**overrides)
    return [(p.field, p.message_vi) for p in caught.value.problems]


# --- Who may apologise, and when ------------------------------------------------------------------


def test_the_step_role_or_an_approver_may_apologise_and_nobody_else() -> None:
    assert may_issue(frozenset({"receptionist"}), "receptionist")
    assert may_issue(frozenset({"approver"}), "specialist")
    assert not may_issue(frozenset({"specialist"}), "receptionist")
    assert not may_issue(frozenset({"receptionist"}), None)
    assert may_issue(frozenset({"approver"}), None)


def test_an_apology_ahead_of_the_due_instant_says_the_case_will_be_late() -> None:
    assert checked() is Lateness.will_be_late


def test_an_apology_after_the_due_instant_says_the_case_is_overdue() -> None:
    assert checked(now=AFTER_DUE) is Lateness.overdue


def test_a_paused_case_may_still_apologise() -> None:
    assert checked(case_status="paused") is Lateness.will_be_late


@pytest.mark.parametrize("status", ["resolved", "rejected", "withdrawn"])
def test_a_finished_case_cannot_apologise(status: str) -> None:
    with pytest.raises(CaseFinished) as caught:
        checked(case_status=status)
    assert caught.value.status == status


def test_a_finished_case_is_refused_before_its_content_is_judged() -> None:
    with pytest.raises(CaseFinished):
        checked(case_status="resolved", reason=" ", new_appointment_at=DUE)


def test_the_new_appointment_must_come_after_the_current_one() -> None:
    found = problems(new_appointment_at=DUE)
    assert [f for f, _ in found] == ["body.new_appointment_at"]
    assert "sau thời gian hẹn hiện tại" in found[0][1]
    assert "17 giờ 00 phút, ngày 19 tháng 3 năm 2026" in found[0][1]


def test_the_new_appointment_must_be_in_the_future() -> None:
    # Overdue since the 19th, told on the 25th: the 23rd is after the due date but gone.
    found = problems(now=vn(2026, 3, 25, 10), new_appointment_at=vn(2026, 3, 23, 17))
    assert found == [("body.new_appointment_at", "Thời gian hẹn mới phải ở tương lai")]


def test_the_new_appointment_must_fall_on_a_working_day() -> None:
    saturday = vn(2026, 3, 21, 10)
    found = problems(new_appointment_at=saturday)
    assert found == [("body.new_appointment_at", "Ngày 21/03/2026 không phải ngày làm việc")]
    # Hùng Kings' day 2026 (lunar 10/3) is a public holiday.
    assert problems(new_appointment_at=vn(2026, 4, 27, 10))


def test_the_reason_is_required_and_every_problem_is_told_at_once() -> None:
    found = problems(reason="   ", new_appointment_at=vn(2026, 3, 15, 10))
    fields = [f for f, _ in found]
    assert fields.count("body.reason") == 1
    # Before the due instant, already past, and on a Sunday.
    assert fields.count("body.new_appointment_at") == 3


def test_a_new_appointment_without_a_time_zone_is_a_problem_not_a_crash() -> None:
    found = problems(new_appointment_at=dt.datetime(2026, 3, 26, 17))
    assert found == [("body.new_appointment_at", "Thời điểm hẹn mới phải có múi giờ")]


# --- The slip -----------------------------------------------------------------------------------


@dataclass
class CaseRow:
    id: uuid.UUID
    dossier_code: str
    procedure_code: str
    unit_code: str
    procedure_name: str | None = None
    applicant_name: str | None = None


@dataclass
class ApologyRow:
    id: uuid.UUID
    agency_code: str | None
    reason: str
    original_due_at: dt.datetime
    new_appointment_at: dt.datetime
    issued_by: str
    issued_at: dt.datetime


CASE = CaseRow(uuid.UUID(int=7), "00070-260305-0001", "1.004227", "00070")


def apology(issued_at: dt.datetime = BEFORE_DUE, agency: str | None = "vpdkdd-01") -> ApologyRow:
    return ApologyRow(
        id=uuid.UUID(int=42),
        agency_code=agency,
        reason=REASON,
        original_due_at=DUE.astimezone(dt.UTC),
        new_appointment_at=NEW.astimezone(dt.UTC),
        issued_by="cb.vpdkdd.01",
        issued_at=issued_at.astimezone(dt.UTC),
    )


def test_the_slip_carries_the_dossier_the_agency_both_appointments_and_the_officer() -> None:
    slip = build_slip(CASE, apology())
    assert (slip.dossier_code, slip.procedure_code, slip.unit_code) == (
        "00070-260305-0001",
        "1.004227",
        "00070",
    )
    assert slip.agency_code == "vpdkdd-01"
    assert slip.agency_label_vi == "Văn phòng đăng ký đất đai (01)"
    assert slip.original_appointment_at == DUE and slip.new_appointment_at == NEW
    # Shown in Vietnam's time, as the form prints it.
    assert slip.new_appointment_at.utcoffset() == dt.timedelta(hours=7)
    assert (slip.reason, slip.officer) == (REASON, "cb.vpdkdd.01")
    assert slip.title_vi == "Phiếu xin lỗi và hẹn lại ngày trả kết quả"
    assert slip.lateness is Lateness.will_be_late


def test_the_slip_of_an_overdue_case_says_so() -> None:
    slip = build_slip(CASE, apology(issued_at=AFTER_DUE))
    assert slip.lateness is Lateness.overdue
    assert slip.lateness_label_vi == "Đã quá hạn hẹn trả kết quả"


def test_a_slip_without_an_agency_is_issued_by_the_one_stop_desk() -> None:
    assert build_slip(CASE, apology(agency=None)).agency_label_vi == "Bộ phận Một cửa"


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squashed(text: str) -> str:
    return " ".join(text.split())


def test_the_printed_slip_reads_in_vietnamese_and_renders_to_the_same_bytes() -> None:
    document = apology_document(build_slip(CASE, apology(issued_at=AFTER_DUE)))
    content = render_pdf(document)
    assert content.startswith(b"%PDF-")
    assert render_pdf(apology_document(build_slip(CASE, apology(issued_at=AFTER_DUE)))) == content
    text = squashed(pdf_text(content))
    for expected in (
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Mã hồ sơ: 00070-260305-0001",
        "Văn phòng đăng ký đất đai (01)",
        "ranh giới thửa đất số 125",
        "17 giờ 00 phút, ngày 19 tháng 3 năm 2026",  # the original appointment
        "17 giờ 00 phút, ngày 26 tháng 3 năm 2026",  # the new one
        "chưa trả được kết quả",
        "trân trọng xin lỗi",
        "cb.vpdkdd.01",
    ):
        assert expected in text, expected


def test_the_slip_addresses_the_applicant_and_names_the_procedure_when_known() -> None:
    named = CaseRow(
        uuid.UUID(int=8),
        "00070-260305-0002",
        "1.004227",
        "00070",
        procedure_name="Đăng ký biến động quyền sử dụng đất",
        applicant_name="Trần Văn Bình",
    )
    text = squashed(pdf_text(render_pdf(apology_document(build_slip(named, apology())))))
    assert "Kính gửi: Ông/Bà/Tổ chức Trần Văn Bình." in text
    assert "thủ tục Đăng ký biến động quyền sử dụng đất, mã 1.004227" in text


def test_a_slip_issued_ahead_of_time_is_worded_as_a_coming_delay() -> None:
    text = squashed(pdf_text(render_pdf(apology_document(build_slip(CASE, apology())))))
    assert "không thể trả kết quả" in text
    assert "chưa trả được kết quả" not in text


# --- The process control sheet ------------------------------------------------------------------


@dataclass
class StepRow:
    id: uuid.UUID
    seq: int
    name: str
    agency_code: str | None
    due_at: dt.datetime
    finished_at: dt.datetime | None
    timeliness: str | None


@dataclass
class ActionRow:
    at: dt.datetime
    action: str
    actor: str
    role: str | None
    note: str | None
    step_id: uuid.UUID | None
    agency_code: str | None


RECEIVED = vn(2026, 3, 5, 9, 30)
DESK = StepRow(uuid.UUID(int=1), 1, "receive", "motcua-00070", vn(2026, 3, 6, 17), None, None)
LAND_OFFICE = StepRow(
    uuid.UUID(int=2), 2, "survey_and_check", "vpdkdd-01", vn(2026, 3, 12, 17), None, None
)
TAX = StepRow(uuid.UUID(int=3), 3, "tax", "thue-01", vn(2026, 3, 16, 12), None, None)


def finished(step: StepRow, at: dt.datetime, timeliness: Timeliness) -> StepRow:
    return StepRow(step.id, step.seq, step.name, step.agency_code, step.due_at, at, timeliness)


def log() -> tuple[list[ActionRow], list[StepRow]]:
    steps = [
        finished(DESK, vn(2026, 3, 5, 10), Timeliness.early),
        finished(LAND_OFFICE, vn(2026, 3, 12, 16), Timeliness.on_time),
        finished(TAX, vn(2026, 3, 18, 9), Timeliness.late),
        StepRow(uuid.UUID(int=4), 4, "survey_and_check", "vpdkdd-01", DUE, None, None),
    ]
    desk, land, tax, again = steps
    actions = [
        ActionRow(RECEIVED, "open", "system", None, None, None, None),
        ActionRow(vn(2026, 3, 5, 9, 40), "claim", "cb.tiepnhan.00070", "receptionist", None,
                  desk.id, desk.agency_code),
        ActionRow(vn(2026, 3, 5, 10), "complete", "cb.tiepnhan.00070", "receptionist", "→ survey",
                  desk.id, desk.agency_code),
        ActionRow(vn(2026, 3, 6, 8), "claim", "cb.vpdkdd.01", "specialist", None, land.id,
                  land.agency_code),
        ActionRow(vn(2026, 3, 12, 16), "complete", "cb.vpdkdd.01", "specialist", None, land.id,
                  land.agency_code),
        ActionRow(vn(2026, 3, 18, 9), "send_back", "cb.thue.01", "specialist",
                  "Số liệu diện tích chưa khớp", tax.id, tax.agency_code),
        ActionRow(BEFORE_DUE, "apologise", "cb.vpdkdd.01", "specialist", REASON, again.id,
                  again.agency_code),
    ]  # fmt: skip
    return actions, steps


def test_each_line_names_where_the_case_came_from_and_went() -> None:
    rows = handoffs(*log())
    moves = [(r.action, r.from_agency, r.to_agency) for r in rows]
    assert moves == [
        ("open", None, "motcua-00070"),
        ("claim", "motcua-00070", "motcua-00070"),
        ("complete", "motcua-00070", "vpdkdd-01"),
        ("claim", "vpdkdd-01", "vpdkdd-01"),
        ("complete", "vpdkdd-01", "thue-01"),
        ("send_back", "thue-01", "vpdkdd-01"),
        ("apologise", "vpdkdd-01", None),
    ]


def test_a_step_is_judged_on_the_line_that_ended_it() -> None:
    rows = handoffs(*log())
    assert [r.timeliness for r in rows] == [
        None,
        None,  # claiming does not end the step
        Timeliness.early,
        None,
        Timeliness.on_time,
        Timeliness.late,
        None,
    ]
    assert rows[5].timeliness_label_vi == "Trễ hạn"
    assert rows[2].step_due_at == DESK.due_at and rows[0].step_due_at is None
    assert rows[6].action_label_vi == "Xin lỗi, hẹn lại ngày trả kết quả"


def test_agency_codes_read_as_agency_names() -> None:
    assert agency_label_vi("congan-01") == "Công an (01)"
    assert agency_label_vi("vpdkdd-01-cn-hoankiem") == "Văn phòng đăng ký đất đai (01-cn-hoankiem)"
    assert agency_label_vi("phong-tnmt-00070") == "phong-tnmt-00070"
    assert agency_label_vi(None) is None


HEADING = CaseHeading(
    dossier_code="00070-260305-0001",
    procedure_code="1.004227",
    unit_code="00070",
    status="open",
    received_at=RECEIVED,
    due_at=DUE,
    finished_at=None,
    timeliness=None,
)


def test_the_printed_sheet_has_every_handoff_with_its_vietnamese_verdict() -> None:
    rows = handoffs(*log())
    content = render_pdf(control_sheet_document(HEADING, rows))
    assert render_pdf(control_sheet_document(HEADING, handoffs(*log()))) == content
    text = squashed(pdf_text(content))
    for expected in (
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        "Mã hồ sơ: 00070-260305-0001",
        "Trước hạn",
        "Đúng hạn",
        "Trễ hạn",
        "Một cửa (00070)",
        "VPĐKĐĐ (01)",
        "Thuế (01)",
        "VPĐKĐĐ: Văn phòng đăng ký đất đai",
        "Thuế: Cơ quan thuế",
        "Trả lại bước trước",
        "18/03/2026 09:00",
        "16/03/2026 12:00",  # the tax step's due instant
        "Đang giải quyết",
    ):
        assert expected in text, expected
    # Officers' ids wrap inside their narrow column.
    assert "cb.thue.01" in "".join(text.split())
    # One verdict per line that ended a step.
    assert (text.count("Trước hạn"), text.count("Đúng hạn"), text.count("Trễ hạn")) == (1, 1, 1)


def test_the_sheet_is_dated_by_its_latest_line() -> None:
    rows = handoffs(*log())
    assert control_sheet_document(HEADING, rows).issued_at == BEFORE_DUE
    assert control_sheet_document(HEADING, []).issued_at == RECEIVED
