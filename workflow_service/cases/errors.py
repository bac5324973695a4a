"""What the cases feature answers when an action cannot be done."""

from __future__ import annotations

from shared.errors import Problem


class CaseNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such case"
    title_vi = "Không tìm thấy hồ sơ xử lý"


class ActionForbidden(Problem):
    """The authority table does not allow this officer the action on this step."""

    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_vi = "Không có quyền"


class ActionConflict(Problem):
    """The case's (or its step's) state does not allow the action now."""

    status = 409
    code = "conflict"
    title = "Conflict"
    title_vi = "Xung đột trạng thái"


class InvalidTarget(Problem):
    status = 422
    code = "invalid-target"
    title = "The route does not allow this target"
    title_vi = "Quy trình không cho phép chuyển đến bước hoặc cơ quan này"


class MissingFields(Problem):
    status = 422
    code = "validation-error"
    title = "Missing fields for this action"
    title_vi = "Thiếu thông tin cho thao tác này"
