"""What the results feature answers when it cannot."""

from __future__ import annotations

from shared.errors import Problem


class ResultNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such signed result"
    title_vi = "Không tìm thấy kết quả điện tử có ký số của hồ sơ"


class PayloadTooLarge(Problem):
    status = 413
    code = "payload-too-large"
    title = "The file is too large"
    title_vi = "Tệp quá lớn"

    def __init__(self, limit: int) -> None:
        super().__init__(
            detail=f"A document to verify may be at most {limit} bytes",
            detail_vi=f"Văn bản cần kiểm tra tối đa {limit} byte",
        )
