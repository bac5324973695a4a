"""Request and response bodies of the dossier routes: submission, reading, listing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intake_service.db.models import Dossier, DossierAction
from intake_service.domain.applicant import is_valid_personal_id, is_valid_tax_code
from intake_service.domain.lifecycle import STATUS_LABELS_VI, DossierStatus
from intake_service.domain.pauses import view
from intake_service.domain.payments_view import figures
from shared.pagination import Page
from shared.vocabulary import Channel, PauseReason


class Applicant(BaseModel):
    """Người nộp hồ sơ: công dân (số định danh cá nhân 12 số) hoặc tổ chức (mã số thuế)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["citizen", "organisation"] = Field(description="công dân / tổ chức")
    id_number: str = Field(
        min_length=10, max_length=14, description="số định danh cá nhân (CCCD) hoặc mã số thuế"
    )
    name: str = Field(min_length=1, max_length=200, description="họ và tên / tên tổ chức")
    phone: str | None = Field(None, pattern=r"^\+?\d{9,12}$", description="số điện thoại")
    address: str | None = Field(None, max_length=300, description="địa chỉ")

    @model_validator(mode="after")
    def _identity(self) -> Applicant:
        if self.kind == "citizen" and not is_valid_personal_id(self.id_number):
            raise ValueError("a citizen's id_number must be a 12-digit personal ID (CCCD)")
        if self.kind == "organisation" and not is_valid_tax_code(self.id_number):
            raise ValueError("an organisation's id_number must be a valid tax code (mã số thuế)")
        return self


class Representative(BaseModel):
    """Người được ủy quyền: the person who files for the applicant, and on what authority."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="họ và tên người được ủy quyền")
    id_number: str = Field(
        pattern=r"^[0-9]{12}$", description="số định danh cá nhân (CCCD) của người được ủy quyền"
    )
    relationship: str = Field(
        min_length=1,
        max_length=100,
        description="quan hệ với người nộp hồ sơ, ví dụ: con, vợ/chồng, nhân viên được ủy quyền",
    )
    authorisation_ref: str = Field(
        min_length=1,
        max_length=100,
        description="số, ký hiệu văn bản ủy quyền (giấy ủy quyền, hợp đồng ủy quyền) hoặc giấy "
        "tờ chứng minh quan hệ đại diện",
    )
    authorisation_date: dt.date | None = Field(
        None, ge=dt.date(1900, 1, 1), description="ngày của văn bản ủy quyền"
    )
    phone: str | None = Field(None, pattern=r"^\+?[0-9]{9,12}$", description="số điện thoại")


class DossierCreate(BaseModel):
    """Nộp hồ sơ."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "procedure_key": "dang-ky-thuong-tru",
                    "unit_code": "00070",
                    "channel": "direct",
                    "applicant": {
                        "kind": "citizen",
                        "id_number": "001090012345",
                        "name": "Nguyễn Văn An",
                        "phone": "0912345678",
                        "address": "12 Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
                    },
                }
            ]
        },
    )

    procedure_key: str = Field(
        min_length=1, max_length=128, description="mã định danh thủ tục trong danh mục"
    )
    unit_code: str = Field(pattern=r"^\d{2,5}$", description="mã đơn vị hành chính tiếp nhận")
    channel: Channel = Field(
        description="kênh nộp: online (trực tuyến), direct (trực tiếp), postal (bưu chính), integration (LGSP/NGSP)"
    )
    applicant: Applicant
    representative: Representative | None = Field(
        None,
        description="người được ủy quyền nộp thay; bắt buộc khi công dân nộp trực tuyến cho "
        "người khác (số định danh người nộp khác người đăng nhập), và khi đó phải là người "
        "đang đăng nhập",
    )
    receive_now: bool | None = Field(
        None,
        description="tiếp nhận ngay (cán bộ đã kiểm tra tại quầy); mặc định: có với kênh trực tiếp, "
        "không với các kênh khác (hồ sơ chờ kiểm tra)",
    )
    source_system: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="hệ thống gửi hồ sơ (LGSP, NGSP, bưu điện); mặc định là tài khoản tích hợp",
    )
    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="mã hồ sơ ở hệ thống gửi; gửi lại cùng mã nhận lại hồ sơ đã tạo (200)",
    )
    document_reuse_consent: bool = Field(
        False,
        description="người nộp đồng ý cho cán bộ giải quyết hồ sơ xem và tái sử dụng giấy tờ đã "
        "số hóa trước đây của mình (mặc định: không)",
    )


class SupplementItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    component: str = Field(min_length=1, max_length=300, description="thành phần hồ sơ cần bổ sung")
    reason: str = Field(min_length=1, max_length=500, description="lý do: thiếu, sai, không hợp lệ")


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str | None
    at: dt.datetime
    note: str | None


PaymentPurpose = Literal["fee", "financial_obligation"]
PaymentRequestStatus = Literal["open", "paid", "cancelled"]

PURPOSE_DESCRIPTION = (
    "khoản thu: fee (phí, lệ phí của thủ tục), financial_obligation (nghĩa vụ tài chính: thuế, "
    "tiền sử dụng đất, lệ phí trước bạ)"
)
REQUEST_STATUS_DESCRIPTION = (
    "tình trạng yêu cầu thu: open (chưa nộp đủ), paid (đã nộp đủ), cancelled (đã hủy, khi hồ sơ "
    "bị rút hoặc từ chối)"
)
RECEIPT_NUMBER_DESCRIPTION = "ký hiệu và số biên lai điện tử, ví dụ BI-26T 0000042"


class PaymentRequestOut(BaseModel):
    """Một yêu cầu thanh toán của hồ sơ và số tiền đã nộp cho nó."""

    model_config = ConfigDict(from_attributes=True)

    request_id: str = Field(description="mã yêu cầu thanh toán")
    purpose: PaymentPurpose = Field(description=PURPOSE_DESCRIPTION)
    purpose_label_vi: str = Field(description="tên khoản thu")
    agency_code: str | None = Field(description="đơn vị thu")
    amount_vnd: int | None = Field(
        description="số tiền phải nộp (đồng); trống khi chưa nhận được yêu cầu"
    )
    paid_vnd: int = Field(description="số tiền đã nộp (đồng)")
    refunded_vnd: int = Field(description="số tiền đã hoàn trả (đồng)")
    owed_vnd: int = Field(description="số tiền còn phải nộp (đồng)")
    status: PaymentRequestStatus = Field(description=REQUEST_STATUS_DESCRIPTION)
    status_label_vi: str = Field(description="tên tình trạng")
    requested_at: dt.datetime | None = Field(description="thời điểm yêu cầu nộp")
    paid_at: dt.datetime | None = Field(description="thời điểm nộp tiền (lần nộp gần nhất)")
    method: str | None = Field(
        description="hình thức nộp: vnpay, vietqr (chuyển khoản), cash (tiền mặt), "
        "on_behalf (nộp hộ)"
    )
    online: bool | None = Field(description="nộp trực tuyến")
    receipt_number: str | None = Field(description=RECEIPT_NUMBER_DESCRIPTION)


class PaymentsView(BaseModel):
    """Phí, lệ phí và nghĩa vụ tài chính của hồ sơ: phải nộp, đã nộp, đã hoàn trả."""

    model_config = ConfigDict(from_attributes=True)

    owed_vnd: int = Field(description="tổng số tiền còn phải nộp (đồng)")
    paid_vnd: int = Field(description="tổng số tiền đã nộp (đồng)")
    refunded_vnd: int = Field(description="tổng số tiền đã hoàn trả (đồng)")
    requests: list[PaymentRequestOut] = Field(description="các yêu cầu thanh toán, cũ trước")


class ObligationOut(BaseModel):
    """Nghĩa vụ tài chính hồ sơ đang chờ người nộp thực hiện, và nơi nộp."""

    amount_vnd: int | None = Field(description="số tiền nghĩa vụ tài chính (đồng)")
    owed_vnd: int | None = Field(
        description="số tiền còn phải nộp; chưa có khi yêu cầu thu chưa được lập"
    )
    payment_request_id: str | None = Field(description="mã yêu cầu thanh toán (dịch vụ thanh toán)")
    payment_request_url: str | None = Field(description="địa chỉ yêu cầu thanh toán")
    pay_url: str | None = Field(
        description="nộp trực tuyến: POST với {request_id, method: vnpay|vietqr}"
    )
    agency_code: str | None = Field(description="đơn vị thu")
    status: str | None = Field(description="tình trạng yêu cầu thu: open, paid, cancelled")


class PauseOut(BaseModel):
    """Điều hồ sơ đang chờ người nộp: bổ sung hồ sơ hoặc thực hiện nghĩa vụ tài chính (thời
    gian giải quyết tạm dừng)."""

    reason: PauseReason = Field(
        description="supplement: bổ sung hồ sơ; financial_obligation: nghĩa vụ tài chính"
    )
    reason_label_vi: str
    detail: str = Field(description="nội dung yêu cầu")
    items: list[SupplementItem] = Field(description="thành phần cần bổ sung, hoàn thiện")
    paused_at: dt.datetime = Field(description="thời điểm tạm dừng")
    requested_by: str | None = Field(description="cán bộ yêu cầu")
    agency_code: str | None = Field(description="cơ quan yêu cầu")
    obligation: ObligationOut | None = Field(description="nghĩa vụ tài chính phải nộp")


class DossierOut(BaseModel):
    """Hồ sơ, as the SPA and the citizen see it."""

    id: uuid.UUID
    code: str = Field(description="mã hồ sơ")
    procedure_key: str
    procedure_code: str | None = Field(description="mã thủ tục hành chính quốc gia")
    procedure_name: str
    unit_code: str
    unit_path: str
    channel: Channel
    status: str
    status_label_vi: str
    applicant_name: str
    representative: Representative | None = Field(
        None, description="người được ủy quyền nộp thay, nếu có"
    )
    received_at: dt.datetime | None = Field(description="thời điểm tiếp nhận")
    appointment_at: dt.datetime | None = Field(description="ngày hẹn trả kết quả")
    rescheduled_at: dt.datetime | None = Field(
        None,
        description="ngày hẹn lại theo phiếu xin lỗi (hồ sơ vẫn tính trễ hạn theo ngày hẹn ban đầu)",
    )
    fee_amount_vnd: int
    case_id: uuid.UUID | None
    fee_request_id: uuid.UUID | None
    version: int
    source_system: str | None = Field(None, description="hệ thống gửi hồ sơ (tích hợp)")
    external_id: str | None = Field(None, description="mã hồ sơ ở hệ thống gửi")
    payments: PaymentsView = Field(
        description="nghĩa vụ thanh toán của hồ sơ (không làm thay đổi phiên bản hồ sơ)"
    )
    document_reuse_consent: bool = Field(
        False, description="người nộp đã đồng ý cho tái sử dụng giấy tờ đã số hóa"
    )
    pause: PauseOut | None = Field(
        None, description="điều hồ sơ đang chờ người nộp (bổ sung, nghĩa vụ tài chính)"
    )
    history: list[ActionOut] | None = None


class DossierPage(Page[DossierOut]):
    """Một trang danh sách hồ sơ."""


# --- The answer built from the rows -------------------------------------------------------------

# Paths on the payment service (its OpenAPI documents both): read the request, pay it online.
PAYMENT_REQUEST_PATH = "/v1/payment-requests/{request_id}"
PAY_PATH = "/v1/payments"


def pause_out(d: Dossier) -> PauseOut | None:
    """The pause a dossier waits on, as the API shows it (see ``domain.pauses``)."""
    pause = view(d.pause, d.payments)
    if pause is None:
        return None
    obligation = None
    if pause.obligation is not None:
        request = pause.obligation.request
        open_request = request is not None and request.status == "open"
        obligation = ObligationOut(
            amount_vnd=pause.obligation.amount_vnd,
            owed_vnd=request.owed_vnd if request else None,
            payment_request_id=request.request_id if request else None,
            payment_request_url=PAYMENT_REQUEST_PATH.format(request_id=request.request_id)
            if request
            else None,
            pay_url=PAY_PATH if open_request else None,
            agency_code=request.agency_code if request else None,
            status=request.status if request else None,
        )
    return PauseOut(
        reason=pause.reason,
        reason_label_vi=pause.reason_label_vi,
        detail=pause.detail,
        items=[SupplementItem.model_validate(i) for i in pause.items],
        paused_at=pause.paused_at,
        requested_by=pause.requested_by,
        agency_code=pause.agency_code,
        obligation=obligation,
    )


class NamedProcedure(Protocol):
    """What an answer names of its procedure: the catalogue's row or the cached entry."""

    @property
    def code(self) -> str | None: ...
    @property
    def name(self) -> str: ...


@cache
def no_payments() -> PaymentsView:
    """The payment view of a dossier nothing was asked of yet (shared: never mutated)."""
    return PaymentsView.model_validate(figures({}))


def dossier_out(
    d: Dossier, procedure: NamedProcedure, history: Sequence[DossierAction] | None = None
) -> DossierOut:
    return DossierOut(
        id=d.id,
        code=d.code,
        procedure_key=d.procedure_key,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        unit_code=d.unit_code,
        unit_path=d.unit_path,
        channel=d.channel,
        status=d.status,
        status_label_vi=STATUS_LABELS_VI.get(DossierStatus(d.status), d.status),
        applicant_name=d.applicant["name"],
        representative=Representative.model_validate(d.representative)
        if d.representative
        else None,
        received_at=d.received_at,
        appointment_at=d.appointment_at,
        rescheduled_at=d.rescheduled_at,
        fee_amount_vnd=d.fee_amount_vnd,
        case_id=d.case_id,
        fee_request_id=d.fee_request_id,
        version=d.version,
        source_system=d.source_system,
        external_id=d.external_id,
        payments=PaymentsView.model_validate(figures(d.payments)),
        document_reuse_consent=bool(d.reuse_consent),
        pause=pause_out(d),
        history=[ActionOut.model_validate(a) for a in history] if history is not None else None,
    )
