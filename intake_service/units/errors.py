"""Problems of units and agencies, each with Vietnamese beside the English."""

from __future__ import annotations

from typing import Any

from shared.errors import Problem


class UnitNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such unit"
    title_vi = "Không tìm thấy đơn vị hành chính"


class AgencyNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such agency"
    title_vi = "Không tìm thấy cơ quan"


class UnitConflict(Problem):
    """A unit that exists already, or one whose active children must be retired first."""

    status = 409
    code = "conflict"
    title = "Conflict"
    title_vi = "Xung đột trạng thái"


class AgencyExists(Problem):
    status = 409
    code = "conflict"
    title = "Conflict"
    title_vi = "Xung đột trạng thái"


def _no_active_unit(field: str) -> list[dict[str, Any]]:
    return [
        {
            "field": field,
            "message": "no active unit with this code",
            "message_vi": "không có đơn vị đang hoạt động với mã này",
        }
    ]


class UnknownParentUnit(Problem):
    status = 422
    code = "unknown-unit"
    title = "Unknown parent unit"
    title_vi = "Không có đơn vị cấp trên này"

    def __init__(self) -> None:
        super().__init__(errors=_no_active_unit("body.parent_code"))


class UnknownUnit(Problem):
    status = 422
    code = "unknown-unit"
    title = "Unknown administrative unit"
    title_vi = "Không có đơn vị hành chính này"

    def __init__(self) -> None:
        super().__init__(errors=_no_active_unit("body.unit_code"))
