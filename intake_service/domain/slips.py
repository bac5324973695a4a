"""The slips of Circular 01/2018/TT-VPCP that the one-stop desk gives the applicant: the receipt
and appointment slip (mẫu 01), the supplement request (mẫu 02) and the refusal (mẫu 03).

A slip is not stored: it is a view of the dossier and of the action that issued it, so it reads
the same every time it is asked for, and its PDF renders to the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field

from intake_service.domain.lifecycle import STATUS_LABELS_VI, Action, DossierStatus
from intake_service.domain.procedure_rules import ProcedureRules
from shared.calendar import VN_TZ
from shared.pdf import (
    Block,
    NumberedList,
    OfficialDocument,
    Paragraph,
    QrCode,
    SignatureBlock,
    Signatures,
    Table,
)
from shared.pdf import Field as Line
from shared.vocabulary import Channel


class SlipKind(StrEnum):
    receipt = "receipt"
    supplement_request = "supplement-request"
    refusal = "refusal"


SLIP_TITLES_VI = {
    SlipKind.receipt: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    SlipKind.supplement_request: "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    SlipKind.refusal: "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
}

# The action of the log that issues each slip; the latest such action is the slip's source.
ISSUED_BY = {
    SlipKind.receipt: Action.receive,
    SlipKind.supplement_request: Action.request_supplement,
    SlipKind.refusal: Action.refuse,
}


class SlipNotIssued(Exception):
    """The dossier's log holds no action that issues this slip (e.g. a refusal slip of a
    dossier that was received)."""

    def __init__(self, kind: SlipKind, status: str) -> None:
        super().__init__(f"no {kind} slip was issued for a dossier that is {status}")
        self.kind = kind
        self.status = status


# --- The supplement request's readable note -----------------------------------------------------
#
# The request's list is kept structured on its action row (``supplement``: items and the
# officer's note), which slips read. The note below is its readable form in the history.

_SUPPLEMENT_HEADING = "Thành phần cần bổ sung, hoàn thiện:"
_NOTE_PREFIX = "Ghi chú: "
_SEPARATOR = " — "


def _one_line(text: str) -> str:
    return " ".join(text.split())


def supplement_note(items: Sequence[tuple[str, str]], note: str | None = None) -> str:
    """The note a supplement request is logged with: every (component, reason) pair, then the
    officer's own note. The separator cannot occur inside a component name."""
    lines = [_SUPPLEMENT_HEADING]
    for i, (component, reason) in enumerate(items, start=1):
        name = _one_line(component).replace(_SEPARATOR, " - ")
        lines.append(f"{i}. {name}{_SEPARATOR}{_one_line(reason)}")
    if note and note.strip():
        lines.append(_NOTE_PREFIX + note.strip())
    return "\n".join(lines)


# --- What a slip is built from ----------------------------------------------------------------


class HistoryEntry(Protocol):
    """One action of the dossier's log (the ``dossier_actions`` row has these attributes)."""

    # Read-only, so an ORM row whose columns are narrower (a dict for the mapping) fits.
    @property
    def action(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def note(self) -> str | None: ...
    # A supplement request's list: {"items": [{component, reason}], "note": the officer's note}.
    @property
    def supplement(self) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class DossierSnapshot:
    code: str
    status: str
    channel: str
    applicant: Mapping[str, Any]
    fee_amount_vnd: int
    received_at: dt.datetime | None
    appointment_at: dt.datetime | None
    # Người được ủy quyền, when someone filed for the applicant (the dossier's JSON as stored).
    representative: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProcedureSnapshot:
    """The procedure as the dossier was submitted under it (its catalogue version)."""

    key: str
    code: str | None
    name: str
    version: int
    processing_working_days: float
    data: Mapping[str, Any]


@dataclass(frozen=True)
class UnitSnapshot:
    code: str
    name: str
    level: str


@dataclass(frozen=True)
class AttachedDocument:
    component: str
    digitised: bool


# --- The slips ----------------------------------------------------------------------------------


class SlipApplicant(BaseModel):
    name: str = Field(description="họ và tên / tên tổ chức")
    kind: str = Field(description="citizen (công dân) / organisation (tổ chức)")
    address: str | None = Field(None, description="địa chỉ")
    phone: str | None = Field(None, description="số điện thoại")


class SlipRepresentative(BaseModel):
    """Who filed for the applicant. The slip names them and the authorisation, not their ID
    number: a printed slip travels further than the dossier."""

    name: str = Field(description="họ và tên người được ủy quyền")
    relationship: str = Field(description="quan hệ với người nộp hồ sơ")
    authorisation_ref: str = Field(description="số, ký hiệu văn bản ủy quyền")
    authorisation_date: dt.date | None = Field(None, description="ngày của văn bản ủy quyền")


class SlipUnit(BaseModel):
    code: str = Field(description="mã đơn vị hành chính")
    name: str = Field(description="tên đơn vị hành chính")
    desk_name: str = Field(description="bộ phận tiếp nhận và trả kết quả")


class SlipBase(BaseModel):
    title_vi: str = Field(description="tên phiếu theo Thông tư 01/2018/TT-VPCP")
    dossier_code: str = Field(description="mã hồ sơ")
    issued_at: dt.datetime = Field(description="thời điểm lập phiếu")
    applicant: SlipApplicant
    representative: SlipRepresentative | None = Field(
        None, description="người được ủy quyền nộp thay, nếu có"
    )
    procedure_code: str | None = Field(description="mã thủ tục hành chính")
    procedure_name: str = Field(description="tên thủ tục, nội dung yêu cầu giải quyết")
    procedure_version: int = Field(description="phiên bản thủ tục khi nộp hồ sơ")
    unit: SlipUnit
    officer: str = Field(description="cán bộ lập phiếu")
    channel: str = Field(description="kênh nộp")
    channel_label_vi: str
    lookup_url: str = Field(description="địa chỉ tra cứu hồ sơ (mã QR trên phiếu)")


class SlipComponent(BaseModel):
    name: str = Field(description="tên giấy tờ")
    copies: int | None = Field(None, description="số lượng")
    form_vi: str | None = Field(None, description="bản chính / bản sao")
    digitised: bool = Field(False, description="đã số hóa")


class ReceiptSlip(SlipBase):
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả (mẫu 01)."""

    kind: Literal["receipt"] = "receipt"
    received_at: dt.datetime = Field(description="thời gian nhận hồ sơ")
    appointment_at: dt.datetime = Field(description="thời gian hẹn trả kết quả")
    processing_working_days: float = Field(description="thời hạn giải quyết (ngày làm việc)")
    components: list[SlipComponent] = Field(description="thành phần hồ sơ đã nhận")
    fee_amount_vnd: int = Field(description="phí, lệ phí")


class SupplementItemOut(BaseModel):
    component: str = Field(description="thành phần hồ sơ cần bổ sung, hoàn thiện")
    reason: str = Field(description="lý do")


class SupplementRequestSlip(SlipBase):
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (mẫu 02)."""

    kind: Literal["supplement-request"] = "supplement-request"
    items: list[SupplementItemOut] = Field(description="nội dung yêu cầu bổ sung, hoàn thiện")
    note: str | None = Field(None, description="ghi chú của cán bộ")
    during_processing: bool = Field(
        False,
        description="yêu cầu trong quá trình giải quyết (thời gian giải quyết tạm dừng đến khi "
        "bổ sung), không phải khi tiếp nhận",
    )


class RefusalSlip(SlipBase):
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ (mẫu 03)."""

    kind: Literal["refusal"] = "refusal"
    reason: str = Field(description="lý do từ chối")


Slip = Annotated[ReceiptSlip | SupplementRequestSlip | RefusalSlip, Field(discriminator="kind")]


def _local(at: dt.datetime) -> dt.datetime:
    """Instants on a slip are shown in Vietnam's time, as the form prints them."""
    return at.astimezone(VN_TZ)


def desk_name(unit: UnitSnapshot) -> str:
    """A province receives at its public administration service centre, a commune or ward at
    its one-stop desk."""
    if unit.level == "province":
        return "Trung tâm Phục vụ hành chính công"
    return "Bộ phận Một cửa"


def lookup_url(base: str, code: str) -> str:
    """What the slip's QR code opens: the dossier code only. The four digits that complete the
    credential are printed nowhere; the page asks for them and sends them in a header
    (``X-Lookup-Verifier``) or a POST body, so they never sit in a URL a log keeps."""
    return f"{base.rstrip('/')}/{code}"


def _components(
    procedure: ProcedureSnapshot, documents: Sequence[AttachedDocument]
) -> list[SlipComponent]:
    """The procedure's required components (all present, since the dossier was received), and
    any other attached document; a component is digitised when a digitised copy is attached."""
    digitised = {d.component for d in documents if d.digitised}
    out: list[SlipComponent] = []
    for entry in ProcedureRules.of(procedure.data).components:
        form = None if entry.original is None else ("Bản chính" if entry.original else "Bản sao")
        out.append(
            SlipComponent(
                name=entry.name,
                copies=entry.count,
                form_vi=form,
                digitised=entry.name in digitised,
            )
        )
    named = {c.name for c in out}
    for d in documents:
        if d.component not in named:
            named.add(d.component)
            out.append(SlipComponent(name=d.component, digitised=d.component in digitised))
    return out


def _channel_label_vi(channel: str) -> str:
    try:
        return Channel(channel).label_vi
    except ValueError:
        return channel


def build_slip(
    kind: SlipKind,
    dossier: DossierSnapshot,
    procedure: ProcedureSnapshot,
    history: Sequence[HistoryEntry],
    unit: UnitSnapshot,
    lookup_base_url: str,
    documents: Sequence[AttachedDocument] = (),
) -> ReceiptSlip | SupplementRequestSlip | RefusalSlip:
    """The slip of ``kind`` as issued by the latest action that issues it; raises
    :class:`SlipNotIssued` when the log holds none."""
    source = next((a for a in reversed(history) if a.action == ISSUED_BY[kind]), None)
    if source is None:
        raise SlipNotIssued(kind, dossier.status)
    applicant = dossier.applicant
    common: dict[str, Any] = {
        "title_vi": SLIP_TITLES_VI[kind],
        "dossier_code": dossier.code,
        "issued_at": _local(source.at),
        "applicant": SlipApplicant(
            name=applicant["name"],
            kind=applicant.get("kind", "citizen"),
            address=applicant.get("address"),
            phone=applicant.get("phone"),
        ),
        "representative": SlipRepresentative.model_validate(dossier.representative)
        if dossier.representative
        else None,
        "procedure_code": procedure.code,
        "procedure_name": procedure.name,
        "procedure_version": procedure.version,
        "unit": SlipUnit(code=unit.code, name=unit.name, desk_name=desk_name(unit)),
        "officer": source.actor,
        "channel": dossier.channel,
        "channel_label_vi": _channel_label_vi(dossier.channel),
        "lookup_url": lookup_url(lookup_base_url, dossier.code),
    }
    if kind == SlipKind.receipt:
        if dossier.appointment_at is None:
            raise SlipNotIssued(kind, dossier.status)
        return ReceiptSlip(
            **common,
            received_at=_local(dossier.received_at or source.at),
            appointment_at=_local(dossier.appointment_at),
            processing_working_days=procedure.processing_working_days,
            components=_components(procedure, documents),
            fee_amount_vnd=dossier.fee_amount_vnd,
        )
    if kind == SlipKind.supplement_request:
        request = source.supplement or {}
        return SupplementRequestSlip(
            **common,
            items=[SupplementItemOut.model_validate(i) for i in request.get("items") or ()],
            note=request.get("note"),
            # Asked after reception: by the agency processing it, through workflow.
            during_processing=dossier.received_at is not None and source.at >= dossier.received_at,
        )
    return RefusalSlip(**common, reason=source.note or "")


# --- The printed form ---------------------------------------------------------------------------


def _clock(at: dt.datetime) -> str:
    """``09 giờ 30 phút, ngày 05 tháng 3 năm 2026`` in Vietnam's time."""
    local = at.astimezone(VN_TZ)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return (
        f"{local.hour:02d} giờ {local.minute:02d} phút, "
        f"ngày {local.day:02d} tháng {month} năm {local.year}"
    )


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def _days(days: float) -> str:
    if days <= 0:
        return "trong ngày làm việc"
    shown = int(days) if float(days).is_integer() else days
    return f"{shown} ngày làm việc"


def _applicant_lines(slip: SlipBase) -> list[Block]:
    lines: list[Block] = [Line("Ông/Bà/Tổ chức", slip.applicant.name)]
    if slip.applicant.address:
        lines.append(Line("Địa chỉ", slip.applicant.address))
    if slip.applicant.phone:
        lines.append(Line("Số điện thoại", slip.applicant.phone))
    if slip.representative:
        r = slip.representative
        lines.append(Line("Người được ủy quyền", f"{r.name} ({r.relationship})"))
        dated = f", ngày {r.authorisation_date:%d/%m/%Y}" if r.authorisation_date else ""
        lines.append(Line("Văn bản ủy quyền", f"{r.authorisation_ref}{dated}"))
    return lines


def _receipt_blocks(slip: ReceiptSlip) -> list[Block]:
    rows = tuple(
        (
            str(i),
            c.name,
            c.form_vi or "",
            str(c.copies) if c.copies is not None else "",
            "Có" if c.digitised else "",
        )
        for i, c in enumerate(slip.components, start=1)
    )
    blocks: list[Block] = [
        Paragraph(f"{slip.unit.desk_name} {slip.unit.name} tiếp nhận hồ sơ của:"),
        *_applicant_lines(slip),
        Line("Nội dung yêu cầu giải quyết", slip.procedure_name),
        Line("Kênh nộp hồ sơ", slip.channel_label_vi),
    ]
    if rows:
        blocks.append(
            Table(
                ("STT", "Tên giấy tờ", "Hình thức", "Số lượng", "Đã số hóa"),
                rows,
                widths=(1.2, 8, 2.6, 2.2, 2.2),
                title="Thành phần hồ sơ đã nhận:",
            )
        )
    blocks += [
        Line("Thời gian giải quyết hồ sơ theo quy định", _days(slip.processing_working_days)),
        Line("Thời gian nhận hồ sơ", _clock(slip.received_at)),
        Line("Thời gian trả kết quả giải quyết hồ sơ", _clock(slip.appointment_at)),
        Line("Phí, lệ phí", _money(slip.fee_amount_vnd)),
        Line("Nhận kết quả tại", f"{slip.unit.desk_name} {slip.unit.name}"),
        Signatures(
            (
                SignatureBlock("NGƯỜI NỘP HỒ SƠ"),
                SignatureBlock("NGƯỜI TIẾP NHẬN HỒ SƠ", name=slip.officer),
            )
        ),
    ]
    return blocks


def _supplement_blocks(slip: SupplementRequestSlip) -> list[Block]:
    when = _clock(slip.issued_at)
    if slip.during_processing:
        opening = (
            f"Vào lúc {when}, trong quá trình giải quyết hồ sơ, cơ quan giải quyết đề nghị "
            "Ông/Bà bổ sung, hoàn thiện những nội dung sau (thời gian giải quyết tạm dừng đến "
            "khi hồ sơ được bổ sung):"
        )
    else:
        opening = (
            f"Vào lúc {when}, {slip.unit.desk_name} {slip.unit.name} đã kiểm tra hồ sơ. "
            "Hồ sơ chưa đầy đủ, chưa hợp lệ; đề nghị Ông/Bà bổ sung, hoàn thiện những nội dung sau:"
        )
    blocks: list[Block] = [
        Paragraph("Hồ sơ của:"),
        *_applicant_lines(slip),
        Line("Nội dung yêu cầu giải quyết", slip.procedure_name),
        Paragraph(opening),
        NumberedList(tuple(f"{i.component}: {i.reason}" for i in slip.items)),
    ]
    if slip.note:
        blocks.append(Line("Ghi chú", slip.note))
    blocks += [
        Paragraph(
            f"Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ với "
            f"{slip.unit.desk_name} {slip.unit.name} để được hướng dẫn."
        ),
        Signatures((SignatureBlock("NGƯỜI HƯỚNG DẪN", name=slip.officer),)),
    ]
    return blocks


def _refusal_blocks(slip: RefusalSlip) -> list[Block]:
    return [
        Paragraph(f"{slip.unit.desk_name} {slip.unit.name} tiếp nhận hồ sơ của:"),
        *_applicant_lines(slip),
        Line("Nội dung yêu cầu giải quyết", slip.procedure_name),
        Paragraph(
            f"Qua xem xét, {slip.unit.desk_name} {slip.unit.name} thông báo không tiếp nhận, "
            "giải quyết hồ sơ này với lý do cụ thể như sau:"
        ),
        Paragraph(slip.reason, italic=True),
        Paragraph("Xin thông báo cho Ông/Bà được biết và thực hiện./."),
        Signatures((SignatureBlock("NGƯỜI TIẾP NHẬN HỒ SƠ", name=slip.officer),)),
    ]


def slip_document(
    slip: ReceiptSlip | SupplementRequestSlip | RefusalSlip,
) -> OfficialDocument:
    """The slip laid out as the form of Circular 01/2018, with a QR code to the public lookup."""
    if isinstance(slip, ReceiptSlip):
        body = _receipt_blocks(slip)
    elif isinstance(slip, SupplementRequestSlip):
        body = _supplement_blocks(slip)
    else:
        body = _refusal_blocks(slip)
    body.append(QrCode(slip.lookup_url, f"Quét mã để tra cứu tình trạng hồ sơ {slip.dossier_code}"))
    return OfficialDocument(
        issuer=(f"UBND {slip.unit.name.upper()}", slip.unit.desk_name.upper()),
        title=slip.title_vi.upper(),
        subtitle=f"Mã hồ sơ: {slip.dossier_code}",
        issued_at=slip.issued_at,
        number=slip.dossier_code,
        place=slip.unit.name,
        blocks=tuple(body),
        subject=f"{slip.title_vi} — {slip.dossier_code}",
        author=f"{slip.unit.desk_name} {slip.unit.name}",
    )


def status_label_vi(status: str) -> str:
    try:
        return STATUS_LABELS_VI[DossierStatus(status)]
    except ValueError:
        return status
