"""What an official document says, as plain data, independent of how it is drawn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class Paragraph:
    text: str
    bold: bool = False
    italic: bool = False
    align: str = "J"  # L, C, R or J (justified), as fpdf2 names them


@dataclass(frozen=True)
class Field:
    """A ``label: value`` line; the label is bold, the value wraps under the line."""

    label: str
    value: str


@dataclass(frozen=True)
class NumberedList:
    items: tuple[str, ...]
    title: str | None = None


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Relative column widths; equal when omitted.
    widths: tuple[float, ...] | None = None
    title: str | None = None


@dataclass(frozen=True)
class SignatureBlock:
    title: str
    hint: str = "(Ký và ghi rõ họ tên)"
    name: str | None = None


@dataclass(frozen=True)
class Signatures:
    blocks: tuple[SignatureBlock, ...]


@dataclass(frozen=True)
class QrCode:
    data: str
    caption: str | None = None


Block = Paragraph | Field | NumberedList | Table | Signatures | QrCode


@dataclass(frozen=True)
class OfficialDocument:
    """An administrative document in the layout of Decree 30/2020 and Circular 01/2018: the
    issuing body top left, the national name and motto top right, number and place-date below,
    then the title and the body."""

    issuer: tuple[str, ...]  # e.g. ("UBND PHƯỜNG HOÀN KIẾM", "BỘ PHẬN MỘT CỬA")
    title: str
    issued_at: dt.datetime  # also the PDF's creation date, so renders are reproducible
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    number: str | None = None  # "Số: …"
    place: str | None = None  # place before "ngày … tháng … năm …"
    subtitle: str | None = None
    subject: str | None = None  # PDF metadata
    author: str | None = None  # PDF metadata


def vietnamese_date(day: dt.date, place: str | None = None) -> str:
    """``Hoàn Kiếm, ngày 05 tháng 3 năm 2026``: day with two digits, month as a number (the
    administrative style writes days 1–9 and months 1–2 with a leading zero)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {text}" if place else text.capitalize()
