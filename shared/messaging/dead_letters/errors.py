"""Problems the dead-letter routes raise."""

from __future__ import annotations

from shared.errors import Problem


class DeadLetterNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such dead letter"
    title_vi = "Không tìm thấy sự kiện lỗi"


class NotReplayable(Problem):
    """A letter this service cannot apply again: malformed, or of a type it does not handle."""

    status = 409
    code = "conflict"
    title = "Conflict"
    title_vi = "Xung đột trạng thái"


class ReplayFailed(Problem):
    status = 409
    code = "replay-failed"
    title = "Replay failed"
    title_vi = "Xử lý lại không thành công"
