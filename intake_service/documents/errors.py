"""Problems the documents feature raises, each with Vietnamese beside the English."""

from __future__ import annotations

from collections.abc import Sequence

from intake_service.domain.documents import (
    ACCEPTED_CONTENT_TYPES,
    REUSE_READING_ROLES,
    REUSE_REFUSALS,
    Component,
    ReuseRefusal,
)
from shared.errors import Problem

ACCEPTED_LIST = ", ".join(ACCEPTED_CONTENT_TYPES)


class DossierNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such dossier"
    title_vi = "Không tìm thấy hồ sơ"


class DocumentNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such document"
    title_vi = "Không tìm thấy giấy tờ"


class DocumentsForbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_vi = "Không có quyền"

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail)


class PayloadTooLarge(Problem):
    status = 413
    code = "payload-too-large"
    title = "The file is too large"
    title_vi = "Tệp quá lớn"
    description = "Payload too large — tệp quá lớn"

    def __init__(self, limit: int) -> None:
        super().__init__(
            detail=f"A document may be at most {limit} bytes",
            detail_vi=f"Mỗi tệp tối đa {limit} byte",
        )


class LengthRequired(Problem):
    status = 411
    code = "length-required"
    title = "Content-Length is required"
    title_vi = "Thiếu độ dài nội dung (Content-Length)"
    description = "Length required — thiếu Content-Length"

    def __init__(self) -> None:
        super().__init__(
            detail="Uploads must declare their size, so an oversized file is refused at once",
            detail_vi="Tệp tải lên phải khai báo kích thước để tệp quá lớn bị từ chối ngay",
        )


class UnsupportedBody(Problem):
    """A body that is neither a multipart upload nor a JSON declaration."""

    status = 415
    code = "unsupported-media-type"
    title = "Send multipart/form-data or application/json"
    title_vi = "Hãy gửi multipart/form-data (kèm tệp) hoặc application/json (không kèm tệp)"
    description = (
        f"Unsupported media type — chỉ nhận {ACCEPTED_LIST} (tệp) hoặc application/json "
        "(tham chiếu, bản giấy)"
    )


class UnsupportedDocumentType(Problem):
    status = 415
    code = "unsupported-media-type"
    title = "This type of file is not accepted"
    title_vi = "Không chấp nhận loại tệp này"

    def __init__(self) -> None:
        super().__init__(
            detail=f"A document is sent as one of: {ACCEPTED_LIST}",
            detail_vi=f"Giấy tờ phải là một trong các loại tệp: {ACCEPTED_LIST}",
        )


class ContentTypeMismatch(Problem):
    status = 422
    code = "content-type-mismatch"
    title = "The file is not what its type says"
    title_vi = "Nội dung tệp không đúng loại tệp đã khai báo"

    def __init__(self, declared: str) -> None:
        super().__init__(
            detail=f"The file was declared {declared}, but its content is not of that type",
            detail_vi=(
                "Nội dung tệp không khớp với loại tệp khai báo (ví dụ tệp chương trình đặt tên .pdf)"
            ),
            errors=[
                {
                    "field": "body.file",
                    "message": "the content does not match the declared content type",
                    "message_vi": "nội dung tệp không khớp với loại tệp khai báo",
                }
            ],
        )


class UnknownComponent(Problem):
    status = 422
    code = "unknown-component"
    title = "The procedure has no such component"
    title_vi = "Thủ tục không có thành phần hồ sơ này"

    def __init__(self, field: str, components: Sequence[Component]) -> None:
        names = "; ".join(f"{c.index}. {c.name}" for c in components) or "none"
        super().__init__(
            detail=f"Components of this procedure: {names}",
            detail_vi=f"Thành phần hồ sơ của thủ tục: {names}",
            errors=[
                {
                    "field": field,
                    "message": "not a component of the procedure (by name or number)",
                    "message_vi": (
                        "không phải thành phần hồ sơ của thủ tục (theo tên hoặc số thứ tự)"
                    ),
                }
            ],
        )


class DossierClosed(Problem):
    status = 409
    code = "dossier-closed"
    title = "The dossier is closed"
    title_vi = "Hồ sơ đã kết thúc"

    def __init__(self, status: str) -> None:
        super().__init__(
            detail=f"Documents cannot change while the dossier is {status}",
            detail_vi="Không thể thay đổi giấy tờ của hồ sơ đã từ chối, đã rút hoặc đã trả kết quả",
        )


class ReuseConsentRequired(Problem):
    status = 403
    code = "reuse-consent-required"
    title = "The applicant has not consented to the reuse of their documents"
    title_vi = "Người nộp chưa đồng ý cho tái sử dụng giấy tờ đã số hóa"

    def __init__(self) -> None:
        super().__init__(
            detail="The applicant consents at submission, in their account or through the lookup",
            detail_vi="Người nộp đồng ý khi nộp hồ sơ, trong tài khoản của mình hoặc qua tra cứu",
        )


def reuse_role_forbidden() -> DocumentsForbidden:
    return DocumentsForbidden(
        "only the applicant, or an officer handling the dossier "
        f"({', '.join(sorted(REUSE_READING_ROLES))}), sees earlier documents"
    )


class ReuseRefused(Problem):
    """The earlier document cannot stand for the component; the code names why
    (``reuse-different-kind``, ``reuse-expired`` …)."""

    status = 422
    code = "reuse-refused"
    title = "The document cannot be reused"
    title_vi = "Không tái sử dụng được giấy tờ"

    def __init__(self, refusal: ReuseRefusal) -> None:
        title, title_vi = REUSE_REFUSALS[refusal]
        super().__init__(
            code=f"reuse-{refusal}",
            title=title,
            title_vi=title_vi,
            errors=[{"field": "body.document_id", "message": title, "message_vi": title_vi}],
        )


class NoContent(Problem):
    status = 404
    code = "no-content"
    title = "The document has no file"
    title_vi = "Giấy tờ không kèm tệp"

    def __init__(self, source: str) -> None:
        super().__init__(
            detail=f"This document is a {source}; only uploaded files can be downloaded",
            detail_vi="Giấy tờ là tham chiếu hoặc bản giấy, không có tệp để tải",
        )


class ContentMissing(Problem):
    status = 500
    code = "content-missing"
    title = "The file is missing from storage"
    title_vi = "Không tìm thấy tệp trong kho lưu trữ"
