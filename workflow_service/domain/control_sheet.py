"""The process control sheet (phiếu kiểm soát quá trình giải quyết hồ sơ, mẫu 05 of Circular
01/2018/TT-VPCP) as a printable document: every handoff of the case between people and agencies,
when it happened, the due instant of the step it ended and whether that step was early, on time
or late.

The sheet is a view of the case's action log, so it is rebuilt on every request; its PDF is dated
by the latest entry, so the same log always prints to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.calendar import VN_TZ
from shared.pdf import Block, OfficialDocument, Paragraph, Table
from shared.pdf import Field as Line
from shared.vocabulary import TIMELINESS_LABELS_VI, Timeliness
from workflow_service.domain.cases import ACTION_LABELS_VI, CaseAction, CaseStatus

TITLE_VI = "Phiếu kiểm soát quá trình giải quyết hồ sơ"

# Actions of the log that are not officers' actions on a step (see ``db.progress``).
OPEN_ACTION = "open"
CLOSE_ACTION = "close"
APOLOGY_ACTION = "apologise"

# Short labels: the sheet is a narrow table, the long ones live in the action table's docs.
SHEET_ACTION_LABELS_VI: dict[str, str] = {
    OPEN_ACTION: "Tiếp nhận, chuyển xử lý",
    CaseAction.claim: "Nhận xử lý",
    CaseAction.complete: "Chuyển bước tiếp theo",
    CaseAction.send_back: "Trả lại bước trước",
    CaseAction.transfer: "Chuyển cơ quan khác",
    CaseAction.request_supplement: "Yêu cầu bổ sung (tạm dừng)",
    CaseAction.request_financial_obligation: "Nghĩa vụ tài chính (tạm dừng)",
    CaseAction.resume: "Tiếp tục xử lý",
    CaseAction.resolve: "Có kết quả giải quyết",
    CaseAction.reject: "Từ chối giải quyết",
    APOLOGY_ACTION: "Xin lỗi, hẹn lại ngày trả kết quả",
    CLOSE_ACTION: "Kết thúc (rút hồ sơ)",
}

CASE_STATUS_LABELS_VI = {
    CaseStatus.open: "Đang giải quyết",
    CaseStatus.paused: "Tạm dừng tính thời gian",
    CaseStatus.resolved: "Đã giải quyết",
    CaseStatus.rejected: "Từ chối giải quyết",
    CaseStatus.withdrawn: "Đã rút hồ sơ",
}

# The agency codes ``domain.assignment`` gives out are "<kind prefix>-<unit code>[-branch]".
AGENCY_PREFIX_LABELS_VI = {
    "motcua": "Bộ phận Một cửa",
    "tuphap": "Tư pháp - Hộ tịch",
    "ttphcc": "Trung tâm Phục vụ hành chính công",
    "vpdkdd": "Văn phòng đăng ký đất đai",
    "thue": "Cơ quan thuế",
    "congan": "Công an",
    "bhxh": "Bảo hiểm xã hội",
}

# The table is narrow: it names agencies by the abbreviations desks write, spelt out under it.
AGENCY_PREFIX_SHORT_VI = {
    "motcua": "Một cửa",
    "tuphap": "Tư pháp",
    "ttphcc": "TTPVHCC",
    "vpdkdd": "VPĐKĐĐ",
    "thue": "Thuế",
    "congan": "Công an",
    "bhxh": "BHXH",
}

# Actions that end one step and start the next (``db.progress`` numbers a case's steps 1, 2, …
# in the order they start, and each of these starts exactly one).
_PASSING_ON = frozenset({CaseAction.complete, CaseAction.send_back, CaseAction.transfer})


def agency_label_vi(code: str | None) -> str | None:
    """``congan-01`` → ``Công an (01)``; a code of no known kind is shown as it is."""
    if not code:
        return None
    prefix, _, rest = code.partition("-")
    label = AGENCY_PREFIX_LABELS_VI.get(prefix)
    if label is None:
        return code
    return f"{label} ({rest})" if rest else label


def agency_short_vi(code: str | None) -> str | None:
    """``vpdkdd-01`` → ``VPĐKĐĐ (01)``, for the sheet's table."""
    if not code:
        return None
    prefix, _, rest = code.partition("-")
    short = AGENCY_PREFIX_SHORT_VI.get(prefix)
    if short is None:
        return code
    return f"{short} ({rest})" if rest else short


def _abbreviations(rows: Sequence[Handoff], names: Mapping[str, str]) -> str | None:
    if names:
        codes = sorted(
            {code for r in rows for code in (r.from_agency, r.to_agency) if code and code in names}
        )
        if codes:
            spelt = "; ".join(f"{agency_short_vi(code)}: {names[code]}" for code in codes)
            return f"Viết tắt — {spelt}."
    prefixes = sorted(
        {
            code.partition("-")[0]
            for r in rows
            for code in (r.from_agency, r.to_agency)
            if code and code.partition("-")[0] in AGENCY_PREFIX_SHORT_VI
        }
    )
    if not prefixes:
        return None
    spelt = "; ".join(
        f"{AGENCY_PREFIX_SHORT_VI[p]}: {AGENCY_PREFIX_LABELS_VI[p]}" for p in prefixes
    )
    return f"Viết tắt — {spelt}."


def action_label_vi(action: str) -> str:
    if action in SHEET_ACTION_LABELS_VI:
        return SHEET_ACTION_LABELS_VI[action]
    try:
        return ACTION_LABELS_VI[CaseAction(action)]
    except ValueError:
        return action


def status_label_vi(status: str) -> str:
    try:
        return CASE_STATUS_LABELS_VI[CaseStatus(status)]
    except ValueError:
        return status


def local_time(at: dt.datetime) -> str:
    """``05/03/2026 09:30``, in Vietnam's time, as desks write it on the sheet."""
    return at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


class LoggedAction(Protocol):
    """One entry of the case's action log (the ``case_actions`` row has these attributes)."""

    at: dt.datetime
    action: str
    actor: str
    role: str | None
    note: str | None
    step_id: uuid.UUID | None
    agency_code: str | None


class StepRecord(Protocol):
    """One passage of the case through a step (the ``steps`` row has these attributes)."""

    id: uuid.UUID
    seq: int
    name: str
    agency_code: str | None
    due_at: dt.datetime
    finished_at: dt.datetime | None
    timeliness: str | None


@dataclass(frozen=True)
class CaseHeading:
    """What the sheet says about the case above its table."""

    dossier_code: str
    procedure_code: str
    unit_code: str
    status: str
    received_at: dt.datetime | None
    due_at: dt.datetime
    finished_at: dt.datetime | None
    timeliness: str | None


class CaseRow(Protocol):
    """The case as stored (the ``cases`` row has these attributes)."""

    dossier_code: str
    procedure_code: str
    unit_code: str
    status: str
    received_at: dt.datetime | None
    due_at: dt.datetime
    finished_at: dt.datetime | None
    timeliness: str | None


def heading_of(case: CaseRow) -> CaseHeading:
    return CaseHeading(
        dossier_code=case.dossier_code,
        procedure_code=case.procedure_code,
        unit_code=case.unit_code,
        status=case.status,
        received_at=case.received_at,
        due_at=case.due_at,
        finished_at=case.finished_at,
        timeliness=case.timeliness,
    )


@dataclass(frozen=True)
class Handoff:
    """A line of the sheet: who handed the case on, from which agency to which, and how the step
    it ended stood against its due instant."""

    at: dt.datetime
    action: str
    action_label_vi: str
    officer: str
    role: str | None
    step: str | None
    from_agency: str | None
    to_agency: str | None
    step_due_at: dt.datetime | None
    timeliness: Timeliness | None
    note: str | None

    @property
    def timeliness_label_vi(self) -> str | None:
        return TIMELINESS_LABELS_VI[self.timeliness] if self.timeliness else None


def handoffs(actions: Sequence[LoggedAction], steps: Sequence[StepRecord]) -> list[Handoff]:
    """The log read as handoffs, in the order it was written."""
    by_id = {s.id: s for s in steps}
    by_seq = {s.seq: s for s in steps}
    rows: list[Handoff] = []
    for a in actions:
        step = by_id.get(a.step_id) if a.step_id else None
        from_agency = a.agency_code or (step.agency_code if step else None)
        to_agency: str | None
        if a.action == OPEN_ACTION:
            first = by_seq.get(1)
            from_agency, to_agency = None, first.agency_code if first else None
        elif a.action in _PASSING_ON and step is not None:
            following = by_seq.get(step.seq + 1)
            to_agency = following.agency_code if following else None
        elif a.action in (CaseAction.claim, CaseAction.resume):
            to_agency = from_agency
        else:
            # A result, a pause, an apology or a withdrawal goes to the applicant, not onwards.
            to_agency = None
        # The step is judged by the action that ended it, not by the ones before.
        finished_here = (
            step is not None and step.finished_at is not None and step.finished_at <= a.at
        )
        rows.append(
            Handoff(
                at=a.at,
                action=a.action,
                action_label_vi=action_label_vi(a.action),
                officer=a.actor,
                role=a.role,
                step=step.name if step else None,
                from_agency=from_agency,
                to_agency=to_agency,
                step_due_at=step.due_at if step else None,
                timeliness=Timeliness(step.timeliness)
                if finished_here and step is not None and step.timeliness
                else None,
                note=a.note,
            )
        )
    return rows


def _cell(value: str | None) -> str:
    return value if value else "—"


def control_sheet_document(
    case: CaseHeading, rows: Sequence[Handoff], names: Mapping[str, str] | None = None
) -> OfficialDocument:
    """The sheet laid out as the form: the case's particulars, then one table line per handoff.
    ``names``: the agencies' names as the agencies table has them, spelt out under the table
    (without them, the names their codes' kinds imply)."""
    names = names or {}
    desk = next((r.to_agency for r in rows if r.action == OPEN_ACTION and r.to_agency), None)
    desk_label = (names.get(desk) if desk else None) or agency_label_vi(desk) or "Bộ phận Một cửa"
    issuer = (f"ĐƠN VỊ HÀNH CHÍNH MÃ {case.unit_code}", desk_label.upper())
    blocks: list[Block] = [
        Line("Mã thủ tục hành chính", case.procedure_code),
        Line("Đơn vị tiếp nhận", case.unit_code),
    ]
    if case.received_at:
        blocks.append(Line("Thời gian nhận hồ sơ", local_time(case.received_at)))
    blocks += [
        Line("Thời gian hẹn trả kết quả", local_time(case.due_at)),
        Line("Tình trạng", status_label_vi(case.status)),
    ]
    if case.finished_at:
        result = local_time(case.finished_at)
        if case.timeliness:
            result += f" — {TIMELINESS_LABELS_VI[Timeliness(case.timeliness)]}"
        blocks.append(Line("Thời gian có kết quả", result))
    blocks += [
        Table(
            (
                "Thời điểm",
                "Thao tác",
                "Từ cơ quan",
                "Đến cơ quan",
                "Cán bộ",
                "Hạn của bước",
                "Kết quả",
            ),
            tuple(
                (
                    local_time(r.at),
                    r.action_label_vi,
                    _cell(agency_short_vi(r.from_agency)),
                    _cell(agency_short_vi(r.to_agency)),
                    r.officer,
                    local_time(r.step_due_at) if r.step_due_at else "—",
                    _cell(r.timeliness_label_vi),
                )
                for r in rows
            ),
            # In millimetres of the 165 mm text width: a date with its time, in the font the
            # documents use, needs 28.
            widths=(28, 25, 21, 21, 20, 28, 22),
            title="Quá trình giải quyết hồ sơ:",
        ),
    ]
    abbreviations = _abbreviations(rows, names)
    if abbreviations:
        blocks.append(Paragraph(abbreviations, italic=True))
    blocks += [
        Paragraph(
            "Cột “Kết quả” so thời điểm kết thúc mỗi bước với hạn của bước; hồ sơ được đánh "
            "giá theo thời gian hẹn trả kết quả ban đầu.",
            italic=True,
        ),
    ]
    issued_at = max((r.at for r in rows), default=case.received_at or case.due_at)
    return OfficialDocument(
        issuer=issuer,
        title=TITLE_VI.upper(),
        subtitle=f"Mã hồ sơ: {case.dossier_code}",
        issued_at=issued_at,
        number=case.dossier_code,
        blocks=tuple(blocks),
        subject=f"{TITLE_VI} — {case.dossier_code}",
        author=desk_label,
    )
