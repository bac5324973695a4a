"""The electronic receipt for fees and charges (biên lai thu phí, lệ phí điện tử) of Decree
123/2020/NĐ-CP and Circular 78/2021/TT-BTC: what it says, as data, its printed PDF and its JSON.

A receipt is identified by its form code (mẫu số), its symbol (ký hiệu) and its sequential number
within the range the collecting agency registered. A number is never reused: a receipt issued by
mistake is cancelled and stays on file, printed with a cancellation mark, so the agency's usage
report can account for it.

Like the intake slips, a receipt is a view of stored data: the same data always prints the same
words and renders to the same PDF bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from shared.calendar import VN_TZ
from shared.pdf import (
    Block,
    OfficialDocument,
    Paragraph,
    QrCode,
    SignatureBlock,
    Signatures,
    Table,
    render_pdf,
)
from shared.pdf import Field as Line

TITLE = "BIÊN LAI THU PHÍ, LỆ PHÍ"
CANCELLED_MARK = "ĐÃ HỦY"
SYSTEM_COLLECTOR = "Hệ thống"
NUMBER_DIGITS = 7

# How the money was collected, as the receipt prints it; keyed by the payment method's name.
METHOD_LABELS_VI: dict[str, str] = {
    "vnpay": "Trực tuyến qua cổng thanh toán VNPay",
    "vietqr": "Chuyển khoản VietQR",
    "cash": "Tiền mặt tại quầy",
    "on_behalf": "Nộp hộ",
}

ReceiptStatus = Literal["issued", "cancelled"]


# --- Amounts in words ---------------------------------------------------------------------------

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Groups of three digits below a billion; a billion (tỷ) repeats, so 10^12 is "một nghìn tỷ".
_GROUP_UNITS = ("", "nghìn", "triệu")
_BILLION = 1_000_000_000


def _three_digits(value: int, full: bool) -> list[str]:
    """The words of 0 < ``value`` < 1000. ``full`` when a larger group precedes it: then the
    hundreds are read even when zero ("không trăm") and a lone unit follows "linh", as in
    "hai triệu không trăm linh bốn nghìn"."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(_DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units == 1:
        # "mười một" but "hai mươi mốt": the tone changes only after "mươi".
        words.append("mốt" if tens > 1 else "một")
    elif units == 5:
        # After a ten, five is read "lăm": "mười lăm", "hai mươi lăm".
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _below_billion(value: int, full: bool) -> list[str]:
    """The words of 0 <= ``value`` < 10^9; groups that are all zero are skipped ("một triệu")."""
    groups = [(value // 1000**i) % 1000 for i in range(len(_GROUP_UNITS))]
    words: list[str] = []
    for i in reversed(range(len(_GROUP_UNITS))):
        group = groups[i]
        if not group:
            continue
        words += _three_digits(group, full=full or bool(words))
        if _GROUP_UNITS[i]:
            words.append(_GROUP_UNITS[i])
    return words


def _number_words(value: int, full: bool = False) -> list[str]:
    billions, rest = divmod(value, _BILLION)
    words: list[str] = []
    if billions:
        words += [*_number_words(billions), "tỷ"]
    words += _below_billion(rest, full=full or bool(words))
    return words


def vnd_in_words(amount: int) -> str:
    """The amount in Vietnamese words as a receipt prints it, capitalised and ending in "đồng":
    1_250_000 → "Một triệu hai trăm năm mươi nghìn đồng", 0 → "Không đồng"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("an amount in đồng is a whole number")
    if amount < 0:
        raise ValueError("a receipt amount cannot be negative")
    words = _number_words(amount) if amount else [_DIGITS[0]]
    text = " ".join([*words, "đồng"])
    return text[0].upper() + text[1:]


# --- The receipt as data ------------------------------------------------------------------------


def mask_id_number(id_number: str) -> str:
    """A personal ID number as a receipt may show it: the first and last three characters, the
    rest starred ("001090012789" → "001******789"). Short numbers are starred entirely."""
    value = id_number.strip()
    if len(value) <= 6:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 6) + value[-3:]


# A run of seven or more digits is a whole ID number (CCCD has 12, old CMND 9), never a masked one.
_UNMASKED_ID = re.compile(r"\d{7,}")


class ReceiptLine(NamedTuple):
    kind_label: str  # "Phí" or "Lệ phí"
    name: str
    amount_vnd: int


@dataclass(frozen=True, kw_only=True)
class ReceiptData:
    """What one receipt says. ``amount_in_words`` left empty is derived from the total; a stored
    receipt passes the words it was issued with, so a reprint reads exactly as the original."""

    form_code: str  # mẫu số, e.g. "01BLP0-001"
    symbol: str  # ký hiệu, e.g. "BI-26T"
    number: int  # số, within the registered range; printed with seven digits
    issued_at: dt.datetime  # aware; printed in Vietnam's time
    agency_name: str
    agency_code: str
    agency_tax_code: str | None = None
    payer_name: str
    payer_id_masked: str  # see mask_id_number; the full number never reaches a receipt
    payer_address: str | None = None
    dossier_code: str
    procedure_name: str
    lines: tuple[ReceiptLine, ...]
    total_vnd: int
    amount_in_words: str = ""
    method_label: str
    collected_by: str = SYSTEM_COLLECTOR  # the officer, or the system for online payments
    status: ReceiptStatus = "issued"
    verify_url: str

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware")
        if not 1 <= self.number < 10**NUMBER_DIGITS:
            raise ValueError(f"a receipt number has at most {NUMBER_DIGITS} digits and starts at 1")
        if self.status not in ("issued", "cancelled"):
            raise ValueError(f"unknown receipt status {self.status!r}")
        if _UNMASKED_ID.search(self.payer_id_masked):
            raise ValueError("payer_id_masked holds an unmasked ID number")
        if not self.lines:
            raise ValueError("a receipt has at least one line")
        # Lines may arrive as plain tuples; keep them as ReceiptLine so names read in the layout.
        lines = tuple(ReceiptLine(*line) for line in self.lines)
        object.__setattr__(self, "lines", lines)
        if any(line.amount_vnd < 0 for line in lines):
            raise ValueError("a receipt line cannot be negative")
        if sum(line.amount_vnd for line in lines) != self.total_vnd:
            raise ValueError("total_vnd is not the sum of the lines")
        if not self.amount_in_words:
            object.__setattr__(self, "amount_in_words", vnd_in_words(self.total_vnd))

    @property
    def number_text(self) -> str:
        return f"{self.number:0{NUMBER_DIGITS}d}"

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def local_issued_at(self) -> dt.datetime:
        return self.issued_at.astimezone(VN_TZ)


# --- The printed receipt ------------------------------------------------------------------------


def _money(amount: int) -> str:
    """Vietnamese digit grouping with dots: 1.250.000."""
    return f"{amount:,}".replace(",", ".")


def _clock(at: dt.datetime) -> str:
    local = at.astimezone(VN_TZ)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return (
        f"{local.hour:02d} giờ {local.minute:02d} phút, "
        f"ngày {local.day:02d} tháng {month} năm {local.year}"
    )


def _identity(data: ReceiptData) -> str:
    return f"Mẫu số: {data.form_code} - Ký hiệu: {data.symbol} - Số: {data.number_text}"


def receipt_document(data: ReceiptData) -> OfficialDocument:
    """The receipt laid out as an official document: the collecting agency, the title and the
    receipt's identity, the payer, the lines with their total, how the money came in, the QR
    code that verifies it, and the collector's signature."""
    blocks: list[Block] = []
    if data.cancelled:
        # First thing under the title, so a cancelled receipt cannot be mistaken for a valid one.
        blocks.append(
            Paragraph(f"{CANCELLED_MARK} - BIÊN LAI KHÔNG CÒN GIÁ TRỊ", bold=True, align="C")
        )
    blocks += [
        Line("Đơn vị thu", data.agency_name),
        Line("Mã đơn vị", data.agency_code),
    ]
    if data.agency_tax_code:
        blocks.append(Line("Mã số thuế", data.agency_tax_code))
    blocks += [
        Line("Thời điểm lập", _clock(data.issued_at)),
        Paragraph("Người nộp tiền", bold=True, align="L"),
        Line("Họ và tên", data.payer_name),
        Line("Số giấy tờ tùy thân", data.payer_id_masked),
    ]
    if data.payer_address:
        blocks.append(Line("Địa chỉ", data.payer_address))
    blocks += [
        Line("Mã hồ sơ", data.dossier_code),
        Line("Thủ tục hành chính", data.procedure_name),
    ]
    rows = tuple(
        (str(i), line.kind_label, line.name, _money(line.amount_vnd))
        for i, line in enumerate(data.lines, start=1)
    )
    blocks += [
        Table(
            ("STT", "Loại", "Nội dung khoản thu", "Số tiền (đồng)"),
            (*rows, ("", "", "Tổng cộng", _money(data.total_vnd))),
            widths=(1.2, 2.4, 8.4, 3.6),
        ),
        Line("Số tiền bằng chữ", data.amount_in_words),
        Line("Hình thức thu", data.method_label),
        QrCode(data.verify_url, "Quét mã để kiểm tra biên lai điện tử"),
        Line("Tra cứu biên lai tại", data.verify_url),
    ]
    online = data.collected_by == SYSTEM_COLLECTOR
    blocks.append(
        Signatures(
            (
                SignatureBlock(
                    "NGƯỜI THU TIỀN",
                    # Online receipts are signed digitally by the agency, not by hand.
                    hint="(Ký số)" if online else "(Ký và ghi rõ họ tên)",
                    name=data.collected_by,
                ),
            )
        )
    )
    subject = f"Biên lai {data.form_code} {data.symbol} {data.number_text}"
    return OfficialDocument(
        issuer=(data.agency_name.upper(),),
        title=TITLE,
        subtitle=_identity(data),
        issued_at=data.local_issued_at,
        number=data.number_text,
        blocks=tuple(blocks),
        subject=f"{subject} ({CANCELLED_MARK})" if data.cancelled else subject,
        author=data.agency_name,
    )


def receipt_pdf(data: ReceiptData) -> bytes:
    """The receipt as PDF bytes; the same data always renders to the same bytes."""
    return render_pdf(receipt_document(data))


def receipt_json(data: ReceiptData) -> dict[str, Any]:
    """The receipt's content as a JSON-able dict, the same the PDF prints."""
    return {
        "title": TITLE,
        "form_code": data.form_code,
        "symbol": data.symbol,
        "number": data.number,
        "number_text": data.number_text,
        "issued_at": data.local_issued_at.isoformat(),
        "agency_name": data.agency_name,
        "agency_code": data.agency_code,
        "agency_tax_code": data.agency_tax_code,
        "payer_name": data.payer_name,
        "payer_id_masked": data.payer_id_masked,
        "payer_address": data.payer_address,
        "dossier_code": data.dossier_code,
        "procedure_name": data.procedure_name,
        "lines": [
            {"kind_label": line.kind_label, "name": line.name, "amount_vnd": line.amount_vnd}
            for line in data.lines
        ],
        "total_vnd": data.total_vnd,
        "amount_in_words": data.amount_in_words,
        "method_label": data.method_label,
        "collected_by": data.collected_by,
        "status": data.status,
        "verify_url": data.verify_url,
    }
