"""API models of reconciliation runs (apart from the ORM model)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from payment_service.domain.reconciliation import Category
from shared.pagination import Page

Method = Literal["vnpay", "vietqr"]

METHOD_LABELS_VI: dict[str, str] = {
    "vnpay": "cổng thanh toán VNPay",
    "vietqr": "chuyển khoản VietQR",
}
CATEGORY_LABELS_VI: dict[str, str] = {
    Category.matched: "khớp",
    Category.only_ours: "chỉ có trong hệ thống, không có trong sao kê",
    Category.only_theirs: "chỉ có trong sao kê, hệ thống không ghi nhận",
    Category.amount_differs: "lệch số tiền",
    Category.duplicate_theirs: "sao kê ghi trùng",
}
KIND_LABELS_VI: dict[str, str] = {"payment": "thanh toán", "refund": "hoàn tiền"}

AGENCY_CODE = r"^(motcua-[0-9]{5}|(ttphcc|thue)-[0-9]{2})$"


class ReconciliationCreate(BaseModel):
    """Đối soát một ngày của một đơn vị thu với một phương thức."""

    model_config = ConfigDict(extra="forbid")

    agency_code: str = Field(
        pattern=AGENCY_CODE,
        description="đơn vị thu: motcua-<mã phường/xã>, ttphcc-<mã tỉnh>, thue-<mã tỉnh>",
        examples=["motcua-00070"],
    )
    method: Method = Field(
        description="vnpay: đối chiếu với bảng kê của cổng VNPay; vietqr: với sao kê ngân hàng"
    )
    day: dt.date = Field(description="ngày đối soát (theo giờ Việt Nam)", examples=["2026-12-03"])


class ItemOut(BaseModel):
    category: Category = Field(
        description="matched: khớp; only_ours: chỉ có trong hệ thống; only_theirs: chỉ có trong "
        "sao kê; amount_differs: lệch số tiền; duplicate_theirs: sao kê ghi trùng"
    )
    category_vi: str = Field(examples=["lệch số tiền"])
    key: str = Field(
        description="mã tham chiếu giao dịch (vnp_TxnRef) hoặc mã giao dịch ngân hàng",
        examples=["K7M2Q9XR4T"],
    )
    kind: Literal["payment", "refund"] = Field(description="payment: thu tiền; refund: hoàn tiền")
    our_amount_vnd: int | None = Field(description="số tiền hệ thống ghi nhận (đồng)")
    their_amount_vnd: int | None = Field(description="số tiền trên sao kê (đồng)")
    difference_vnd: int = Field(description="sao kê trừ hệ thống (đồng)")
    payment_id: uuid.UUID | None = Field(description="giao dịch thanh toán của hệ thống")
    external_id: str | None = Field(
        description="mã giao dịch của cổng (vnp_TransactionNo) hoặc của ngân hàng"
    )


class SummaryRow(BaseModel):
    label_vi: str
    count: int = Field(description="số dòng")
    our_amount_vnd: int = Field(description="thu trừ hoàn theo hệ thống (đồng)")
    their_amount_vnd: int = Field(description="thu trừ hoàn theo sao kê (đồng)")


class RunListItem(BaseModel):
    id: uuid.UUID
    agency_code: str = Field(description="đơn vị thu", examples=["motcua-00070"])
    unit_path: str = Field(description="đơn vị hành chính của đơn vị thu", examples=["01.00070"])
    method: Method
    method_vi: str = Field(examples=["cổng thanh toán VNPay"])
    day: dt.date = Field(description="ngày đối soát (giờ Việt Nam)")
    summary: dict[Category, SummaryRow] = Field(description="tổng hợp theo loại kết quả")
    discrepancies: int = Field(description="số dòng không khớp; 0 là khớp hoàn toàn")
    runs: int = Field(description="số lần đã chạy đối soát ngày này")
    ran_at: dt.datetime = Field(description="lần chạy gần nhất")
    ran_by: str = Field(description="người chạy lần gần nhất")


class RunOut(RunListItem):
    items: list[ItemOut] = Field(
        description="từng dòng kết quả, theo loại (khớp trước), rồi mã tham chiếu"
    )


class RunPage(Page[RunListItem]):
    pass
