"""HTTP preconditions: the version an ``If-Match`` header names, and the answers when it is
missing (428) or stale (412)."""

from __future__ import annotations

from shared.errors.model import Problem


def expected_version(if_match: str | None) -> int:
    """The version an ``If-Match`` header names: 428 when absent, 412 when it is no version of
    ours (it can then match nothing)."""
    if not if_match:
        raise Problem(
            428,
            "precondition-required",
            "If-Match is required",
            "Thiếu tiêu đề If-Match",
            detail="Send the ETag you read with the resource, so two officers never overwrite each other",
            detail_vi="Gửi ETag nhận được khi đọc để tránh hai người cùng sửa",
        )
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise precondition_failed()
    return int(raw)


def precondition_failed() -> Problem:
    return Problem(
        412,
        "precondition-failed",
        "The resource has changed",
        "Hồ sơ đã được người khác cập nhật",
        detail="If-Match does not match the current ETag; read again and retry",
        detail_vi="Phiên bản không khớp; hãy tải lại rồi thực hiện lại",
    )
