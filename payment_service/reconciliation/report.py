"""The reconciliation report as a file a finance officer opens in Excel: one row per item, then
the summary. UTF-8 with a byte-order mark, or Excel reads the Vietnamese as mojibake; the
headers carry both languages so the file serves the officer and the auditor alike. The agency,
method and day are in the file's name, so the first row is the header a spreadsheet expects."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from payment_service.domain.reconciliation import Category
from payment_service.reconciliation.schemas import (
    CATEGORY_LABELS_VI,
    KIND_LABELS_VI,
    RunOut,
    SummaryRow,
)

ITEM_HEADER = (
    "Kết quả / Category",
    "Diễn giải / Meaning",
    "Mã tham chiếu / Reference",
    "Loại giao dịch / Kind",
    "Số tiền hệ thống (đồng) / Our amount (VND)",
    "Số tiền sao kê (đồng) / Statement amount (VND)",
    "Chênh lệch (đồng) / Difference (VND)",
    "Mã thanh toán / Payment id",
    "Mã giao dịch đối tác / External id",
)
SUMMARY_HEADER = (
    "Tổng hợp / Summary",
    "Diễn giải / Meaning",
    "Số dòng / Count",
    "Hệ thống: thu trừ hoàn (đồng) / Ours: payments less refunds (VND)",
    "Sao kê: thu trừ hoàn (đồng) / Statement: payments less refunds (VND)",
)
# A cell starting with one of these is a formula to a spreadsheet; statement text is not ours
# to trust, so such a cell is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _amount(value: int | None) -> str:
    return "" if value is None else str(value)


def file_name(run: RunOut, extension: str) -> str:
    return f"doi-soat-{run.agency_code}-{run.method}-{run.day.isoformat()}.{extension}"


def csv_report(run: RunOut) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ITEM_HEADER)
    for item in run.items:
        writer.writerow(
            (
                item.category.value,
                item.category_vi,
                _text(item.key),
                KIND_LABELS_VI.get(item.kind, item.kind),
                _amount(item.our_amount_vnd),
                _amount(item.their_amount_vnd),
                str(item.difference_vnd),
                str(item.payment_id or ""),
                _text(item.external_id),
            )
        )
    writer.writerow(())
    writer.writerow(SUMMARY_HEADER)
    for category, row in _in_order(run):
        writer.writerow(
            (
                category.value,
                CATEGORY_LABELS_VI[category],
                row.count,
                row.our_amount_vnd,
                row.their_amount_vnd,
            )
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _in_order(run: RunOut) -> Iterable[tuple[Category, SummaryRow]]:
    return ((category, run.summary[category]) for category in Category if category in run.summary)
