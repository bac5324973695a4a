"""Problems the integration API raises (LGSP/NGSP, post offices)."""

from __future__ import annotations

from shared.errors import Problem


class BadFeedCursor(Problem):
    status = 400
    code = "bad-cursor"
    title = "Invalid cursor"
    title_vi = "Con trỏ không hợp lệ"

    def __init__(self) -> None:
        super().__init__(
            detail="Send back a next_cursor exactly as received, or omit it to start from the "
            "beginning",
            detail_vi="Gửi lại đúng next_cursor đã nhận, hoặc bỏ trống để đọc từ đầu",
        )


class ExternalIdConflict(Problem):
    status = 409
    code = "external-id-conflict"
    title = "This external id was already used for another dossier"
    title_vi = "Mã hồ sơ của hệ thống gửi đã được dùng cho một hồ sơ khác"
