"""Problems of the exceptions feature."""

from __future__ import annotations

from shared.errors import Problem, not_found


def exception_not_found() -> Problem:
    return not_found("exception", "giao dịch ngoại lệ")


def already_resolved(resolution: str | None) -> Problem:
    # Exceptions carry no version: their status is the precondition of a resolution.
    return Problem(
        409,
        "exception-already-resolved",
        "The exception is resolved already",
        "Ngoại lệ đã được xử lý",
        detail=f"resolved as {resolution}",
        detail_vi="ngoại lệ đã được người khác xử lý; tải lại để xem cách xử lý",
    )


def resolved_by_the_system() -> Problem:
    return Problem(
        409,
        "exception-resolved-by-system",
        "This exception is resolved by the system",
        "Ngoại lệ này do hệ thống tự xử lý",
        detail="a pending receipt is issued as soon as a receipt range is registered",
        detail_vi="biên lai được cấp ngay khi đăng ký dải số biên lai mới",
    )


def nothing_owed() -> Problem:
    return Problem(
        422,
        "exception-no-balance",
        "Nothing is missing to ask for",
        "Không có số tiền còn thiếu để yêu cầu nộp bổ sung",
        detail="request_balance fits only an exception where less was received than expected",
        detail_vi="chỉ yêu cầu nộp bổ sung khi số đã nhận ít hơn số phải nộp",
        errors=[
            {
                "field": "body.resolution",
                "message": "request_balance needs received < expected",
                "message_vi": "chỉ dùng khi chuyển thiếu",
            }
        ],
    )
