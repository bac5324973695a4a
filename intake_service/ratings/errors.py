"""Problems the ratings feature raises, each with Vietnamese beside the English."""

from __future__ import annotations

from shared.errors import Problem


class DossierNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such dossier"
    title_vi = "Không tìm thấy hồ sơ"


class AlreadyRated(Problem):
    status = 409
    code = "already-rated"
    title = "The dossier was already rated through this channel"
    title_vi = "Hồ sơ đã được đánh giá qua kênh này"

    def __init__(self, channel: str) -> None:
        super().__init__(
            detail=f"Only one {channel} rating per dossier is accepted",
            detail_vi="Mỗi hồ sơ chỉ được đánh giá một lần trên mỗi kênh",
        )


class RatingForbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_vi = "Không có quyền"


class RatingUnauthorized(Problem):
    status = 401
    code = "unauthorized"
    title = "Not authenticated"
    title_vi = "Chưa xác thực"

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, headers={"WWW-Authenticate": "Bearer"})
