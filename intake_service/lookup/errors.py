"""Problems the public lookup raises, each with Vietnamese beside the English."""

from __future__ import annotations

from shared.errors import Problem


class LookupNotFound(Problem):
    """An unknown code and a wrong verifier look alike, so the route tells nobody which codes
    exist."""

    status = 404
    code = "lookup-not-found"
    title = "No dossier matches this code and verifier"
    title_vi = "Không tìm thấy hồ sơ với mã và thông tin xác minh đã nhập"

    def __init__(self) -> None:
        super().__init__(
            detail="Check the dossier code on the slip and the last four digits",
            detail_vi="Kiểm tra lại mã hồ sơ trên phiếu và 4 số cuối đã nhập",
        )


class TooManyLookups(Problem):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"
    title_vi = "Quá nhiều yêu cầu"

    def __init__(self, wait: int) -> None:
        super().__init__(
            detail=f"Too many lookups from this address; retry in {wait} s",
            detail_vi=f"Tra cứu quá nhiều lần từ địa chỉ này; thử lại sau {wait} giây",
            headers={"Retry-After": str(wait)},
        )


class LookupLocked(Problem):
    status = 429
    code = "lookup-locked"
    title = "Too many requests"
    title_vi = "Quá nhiều yêu cầu"

    def __init__(self, wait: int) -> None:
        super().__init__(
            detail=f"Too many wrong verifiers from this address; retry in {wait} s",
            detail_vi=f"Nhập sai thông tin xác minh quá nhiều lần; thử lại sau {wait} giây",
            headers={"Retry-After": str(wait)},
        )
