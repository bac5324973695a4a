"""Problems the dossier routes raise (submission, reading, listing)."""

from __future__ import annotations

from intake_service.integration.errors import ExternalIdConflict
from shared.errors import Problem


class DossierNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such dossier"
    title_vi = "Không tìm thấy hồ sơ"
    description = "Hồ sơ không có, hoặc ngoài phạm vi của người xem"


class Forbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_vi = "Không có quyền"


class UnknownUnit(Problem):
    status = 422
    code = "unknown-unit"
    title = "Unknown administrative unit"
    title_vi = "Không có đơn vị hành chính này"

    def __init__(self) -> None:
        super().__init__(
            errors=[
                {
                    "field": "body.unit_code",
                    "message": "no active administrative unit with this code",
                    "message_vi": "không có đơn vị hành chính đang hoạt động với mã này",
                }
            ]
        )


class UnknownProcedure(Problem):
    status = 422
    code = "unknown-procedure"
    title = "Unknown procedure"
    title_vi = "Không có thủ tục này"

    def __init__(self) -> None:
        super().__init__(
            errors=[
                {
                    "field": "body.procedure_key",
                    "message": "no active procedure with this code",
                    "message_vi": "không có thủ tục đang hoạt động với mã này",
                }
            ]
        )


class ReferenceChanging(Problem):
    status = 409
    code = "catalogue-changing"
    title = "The unit or procedure changed during the submission; submit again"
    title_vi = "Đơn vị hoặc thủ tục vừa thay đổi trong lúc nộp; vui lòng nộp lại"
    description = (
        "Danh mục thủ tục hoặc đơn vị thay đổi liên tục trong lúc nộp; không có gì được ghi"
    )


class IdempotencyKeyReused(Problem):
    status = 422
    code = "idempotency-key-reused"
    title = "Idempotency key reused with another body"
    title_vi = "Khóa chống gửi trùng đã dùng cho một yêu cầu khác"


class ConsentByApplicantOnly(Problem):
    status = 422
    code = "consent-by-applicant-only"
    title = "Only the applicant, signed in as themself, consents to the reuse of their documents"
    title_vi = "Chỉ người nộp hồ sơ (tự đăng nhập) mới đồng ý cho tái sử dụng giấy tờ của mình"

    def __init__(self) -> None:
        super().__init__(
            errors=[
                {
                    "field": "body.document_reuse_consent",
                    "message": "given by the applicant only",
                    "message_vi": "chỉ người nộp hồ sơ được đồng ý",
                }
            ]
        )


class _Representation(Problem):
    status = 422
    title = "The authorised representative's details are missing or do not hold"
    title_vi = "Thông tin người được ủy quyền còn thiếu hoặc không hợp lệ"

    def __init__(self, field: str, message: str, message_vi: str) -> None:
        super().__init__(errors=[{"field": field, "message": message, "message_vi": message_vi}])


class RepresentativeRequired(_Representation):
    code = "representative-required"


class InvalidRepresentative(_Representation):
    code = "invalid-representative"


SUBMISSION_PROBLEMS = (
    UnknownUnit,
    UnknownProcedure,
    IdempotencyKeyReused,
    ConsentByApplicantOnly,
    RepresentativeRequired,
    InvalidRepresentative,
    ExternalIdConflict,
    Forbidden,
    ReferenceChanging,
)
