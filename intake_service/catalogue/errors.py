"""Problems the catalogue raises, each with Vietnamese beside the English."""

from __future__ import annotations

from shared.errors import Problem


class ProcedureNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such procedure"
    title_vi = "Không tìm thấy thủ tục"


class ProcedureVersionNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such procedure version"
    title_vi = "Không tìm thấy phiên bản thủ tục"


class ProcedureExists(Problem):
    status = 409
    code = "conflict"
    title = "Conflict"
    title_vi = "Xung đột trạng thái"
    description = "The procedure exists already — thủ tục đã có; change it with PUT"


class KeyMismatch(Problem):
    status = 422
    code = "key-mismatch"
    title = "The body's key differs from the path"
    title_vi = "Mã thủ tục không khớp"
