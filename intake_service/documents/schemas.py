"""Request and response bodies of the documents API (thành phần hồ sơ)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intake_service.domain.documents import DocumentSource
from intake_service.domain.verifier import VERIFIER_PATTERN
from shared.pagination import Page

ComponentField = Field(
    min_length=1,
    max_length=500,
    description="thành phần hồ sơ: tên như trong danh mục thủ tục, hoặc số thứ tự (từ 1)",
    examples=["Giấy tờ chứng minh chỗ ở hợp pháp"],
)
KindField = Field(
    None,
    min_length=1,
    max_length=128,
    pattern=r"^[a-z0-9][a-z0-9-]*$",
    description="loại giấy tờ (mặc định theo thành phần hồ sơ), ví dụ giay-to-tuy-than",
)


class DocumentReferenceIn(BaseModel):
    """Khai báo thành phần hồ sơ không kèm tệp: tham chiếu tới bản điện tử đã có ở nơi khác
    (kho dữ liệu, cơ sở dữ liệu quốc gia), hoặc bản giấy nộp tại Bộ phận Một cửa."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "component": "Giấy tờ chứng minh chỗ ở hợp pháp",
                    "source": "reference",
                    "reference": "https://dichvucong.gov.vn/kho-du-lieu/001090012345/hd-thue-nha-2024",
                },
                {"component": "1", "source": "paper"},
            ]
        },
    )

    component: str = ComponentField
    # A literal, not the enum: this schema is inlined in the OpenAPI request body of a route that
    # also takes multipart, where a reference to a shared definition would dangle.
    source: Literal["reference", "paper"] = Field(
        "reference", description="reference: tham chiếu; paper: bản giấy"
    )
    reference: str | None = Field(
        None, min_length=3, max_length=2000, description="địa chỉ hoặc mã định danh của bản điện tử"
    )
    kind: str | None = KindField
    valid_until: dt.date | None = Field(None, description="giấy tờ có hiệu lực đến ngày")

    @model_validator(mode="after")
    def _reference_matches_source(self) -> DocumentReferenceIn:
        if self.source == DocumentSource.reference and not self.reference:
            raise ValueError("a reference document needs its reference (URL or identifier)")
        if self.source == DocumentSource.paper and self.reference:
            raise ValueError("a paper document has no reference")
        return self


class ReuseIn(BaseModel):
    """Tái sử dụng giấy tờ đã số hóa của cùng người nộp."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "component": "Giấy tờ tùy thân của người đi đăng ký",
                    "document_id": "6f1c2a0e-3b7d-4f7e-9a51-2c8d4e6f0a13",
                }
            ]
        },
    )

    component: str = ComponentField
    document_id: uuid.UUID = Field(description="giấy tờ đã số hóa trước đây")


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dossier_id: uuid.UUID
    component: str = Field(description="thành phần hồ sơ")
    kind: str | None = Field(description="loại giấy tờ")
    source: DocumentSource = Field(description="nguồn: tải lên, tham chiếu, bản giấy, tái sử dụng")
    source_label_vi: str
    sha256: str | None = Field(description="mã băm SHA-256 của tệp (cũng là ETag khi tải về)")
    size: int | None = Field(None, description="kích thước tệp (byte)")
    content_type: str | None = None
    filename: str | None = None
    reference: str | None = None
    reused_from: uuid.UUID | None = Field(description="giấy tờ gốc khi tái sử dụng")
    applicant_id_number: str
    valid_until: dt.date | None
    digitised: bool = Field(description="đã số hóa")
    digitised_by: str | None
    digitised_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    content_url: str | None = Field(None, description="đường dẫn tải tệp")


class DocumentAttachedOut(DocumentOut):
    dossier_input_digitised: bool = Field(
        description="mọi thành phần hồ sơ bắt buộc của hồ sơ đã được số hóa"
    )


class ComponentStatus(BaseModel):
    index: int = Field(description="số thứ tự trong danh mục, từ 1")
    name: str = Field(description="tên thành phần hồ sơ")
    kind: str = Field(description="loại giấy tờ")
    provided: bool = Field(description="đã có giấy tờ")
    digitised: bool = Field(description="đã có bản số hóa")
    document_ids: list[uuid.UUID]


class DossierDocumentsOut(Page[DocumentOut]):
    """A page of the dossier's documents, oldest first. ``components``, ``missing`` and
    ``input_digitised`` are of the whole dossier, whichever page this is."""

    dossier_code: str
    components: list[ComponentStatus] = Field(description="thành phần hồ sơ bắt buộc")
    missing: list[str] = Field(description="thành phần còn thiếu")
    input_digitised: bool = Field(description="hồ sơ đầu vào đã số hóa đủ")
    documents: list[DocumentOut] = Field(
        description="giấy tờ của trang này (như `items`, giữ cho ứng dụng cũ)"
    )


class ReusableDocumentOut(DocumentOut):
    expired: bool = Field(
        description="đã hết hiệu lực (theo ngày hiện tại): không tái sử dụng được"
    )
    reusable: bool = Field(description="có thể tái sử dụng cho hồ sơ này")


class ReusableDocumentPage(Page[ReusableDocumentOut]):
    dossier_code: str = Field(description="hồ sơ đang giải quyết, nơi giấy tờ sẽ được dùng lại")


class ConsentIn(BaseModel):
    """Người nộp đồng ý (hoặc rút lại đồng ý) cho cán bộ giải quyết hồ sơ xem và tái sử dụng
    giấy tờ đã số hóa trước đây của mình."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"granted": True}]})

    granted: bool = Field(description="true: đồng ý; false: rút lại đồng ý")


class LookupConsentIn(ConsentIn):
    """Đồng ý qua tra cứu công khai: kèm thông tin xác minh như khi tra cứu."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"verifier": "2345", "granted": True}]}
    )

    verifier: str = Field(
        pattern=VERIFIER_PATTERN,
        description="4 số cuối số định danh (CCCD) / mã số thuế hoặc số điện thoại người nộp",
    )


class ConsentOut(BaseModel):
    dossier_code: str
    document_reuse_consent: bool = Field(description="người nộp đang đồng ý cho tái sử dụng")
    changed_at: dt.datetime | None = Field(description="thời điểm thay đổi gần nhất")


class UploadFieldsIn(BaseModel):
    """The text fields of a multipart upload, beside the ``file`` part."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    component: str = ComponentField
    kind: str | None = KindField
    valid_until: dt.date | None = Field(None, description="giấy tờ có hiệu lực đến ngày")
