"""What the apologies feature answers when a slip cannot be issued or found."""

from __future__ import annotations

from shared.errors import Problem


class InvalidApology(Problem):
    status = 422
    code = "validation-error"
    title = "The apology is not valid"
    title_vi = "Phiếu xin lỗi không hợp lệ"


class CaseFinished(Problem):
    status = 409
    code = "conflict"
    title = "Conflict"
    title_vi = "Xung đột trạng thái"


class IssuingForbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_vi = "Không có quyền"


class ApologyNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such apology slip"
    title_vi = "Không tìm thấy phiếu xin lỗi"
