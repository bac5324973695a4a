"""API models of bank credits: the bank's notice, a statement import and what they became."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from payment_service.domain.credit_matching import Outcome
from shared.pagination import Page
from shared.text import CleanText

# Banks write times in Vietnam's time; one without an offset is taken as such.
VN_TZ: Final = dt.timezone(dt.timedelta(hours=7), "GMT+7")
# VietQR carries at most 13 digits of amount (payment.md §2.1).
MAX_AMOUNT_VND: Final = 9_999_999_999_999

OUTCOME_LABELS_VI: dict[Outcome, str] = {
    Outcome.matched: "khớp, đã ghi nhận thanh toán",
    Outcome.overpaid: "chuyển thừa tiền",
    Outcome.underpaid: "chuyển thiếu tiền",
    Outcome.wrong_memo: "không xác định được giao dịch (sai nội dung chuyển khoản)",
    Outcome.duplicate: "chuyển trùng cho giao dịch đã thanh toán",
}


def _in_vietnam_time(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)


CreditedAt = Annotated[dt.datetime, AfterValidator(_in_vietnam_time)]


class BankNotice(BaseModel):
    """Báo có: one credit to one of our accounts, as the bank's signed notice carries it."""

    # A bank adds fields over time (payer's bank, balance); they are kept in the raw record.
    model_config = ConfigDict(extra="ignore")

    transaction_id: CleanText = Field(
        min_length=1,
        max_length=64,
        description="mã giao dịch của ngân hàng",
        examples=["FT26120312345678"],
    )
    bank_bin: str = Field(pattern=r"^\d{6}$", description="mã BIN ngân hàng", examples=["970415"])
    account_no: CleanText = Field(
        min_length=1,
        max_length=32,
        description="số tài khoản được ghi có",
        examples=["113366668888"],
    )
    amount_vnd: int = Field(gt=0, le=MAX_AMOUNT_VND, description="số tiền (đồng)", examples=[20000])
    description: CleanText = Field(
        "", max_length=1000, description="nội dung chuyển khoản", examples=["HSK7M2QX9ABC LE PHI"]
    )
    credited_at: CreditedAt = Field(
        description="thời điểm ghi có (ISO 8601; không có múi giờ thì là giờ Việt Nam)",
        examples=["2026-12-03T09:15:00+07:00"],
    )


class StatementLine(BaseModel):
    """A line of the statement; account and bank default to the statement's."""

    model_config = ConfigDict(extra="ignore")

    transaction_id: CleanText = Field(min_length=1, max_length=64)
    bank_bin: str = Field("", pattern=r"^(\d{6})?$")
    account_no: str | None = Field(None, min_length=1, max_length=32)
    amount_vnd: int = Field(gt=0, le=MAX_AMOUNT_VND)
    description: CleanText = Field("", max_length=1000)
    credited_at: CreditedAt


class BankNoticeOut(BaseModel):
    """What the bank is answered: the credit's outcome, or that it was seen already."""

    outcome: Outcome | None = Field(None, description="kết quả đối chiếu khoản ghi có")
    payment_id: uuid.UUID | None = Field(None, description="giao dịch thanh toán được đối chiếu")
    duplicate_delivery: bool = Field(
        False, description="thông báo này đã nhận trước đó; không thay đổi gì"
    )


class StatementImport(BaseModel):
    """Nhập sao kê: fetch one day's statement of one account from the bank and apply it."""

    model_config = ConfigDict(extra="forbid")

    account_no: str = Field(
        min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$", examples=["113366668888"]
    )
    bank_bin: str | None = Field(None, pattern=r"^\d{6}$", examples=["970415"])
    date: dt.date = Field(description="ngày sao kê (giờ Việt Nam)", examples=["2026-12-03"])


class BankCreditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    bank_txn_id: str = Field(description="mã giao dịch của ngân hàng")
    bank_bin: str
    account_no: str
    amount_vnd: int
    memo: str = Field(description="nội dung chuyển khoản")
    credited_at: dt.datetime
    source: str = Field(description="notice: báo có; statement: sao kê")
    outcome: Outcome
    outcome_vi: str
    payment_id: uuid.UUID | None
    received_at: dt.datetime


class BankCreditPage(Page[BankCreditOut]):
    pass


class OutcomeCounts(BaseModel):
    matched: int = 0
    overpaid: int = 0
    underpaid: int = 0
    wrong_memo: int = 0
    duplicate: int = 0


class StatementImportOut(BaseModel):
    account_no: str
    bank_bin: str
    date: dt.date
    lines: int = Field(description="số dòng của sao kê")
    new: int = Field(description="số khoản ghi có mới được ghi nhận")
    known: int = Field(description="đã biết từ báo có hoặc lần nhập trước: bỏ qua")
    repeated: int = Field(
        description="dòng lặp lại cùng mã giao dịch trong sao kê: cùng một khoản, không tính hai lần"
    )
    invalid: int = Field(description="dòng không đọc được: bỏ qua, xem nhật ký sao kê")
    outcomes: OutcomeCounts = Field(description="số khoản mới theo kết quả đối chiếu")
    items: list[BankCreditOut] = Field(description="các khoản ghi có mới")
