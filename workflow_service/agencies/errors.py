"""What the agencies feature answers when it cannot."""

from __future__ import annotations

from shared.errors import Problem


class UnknownAgency(Problem):
    status = 422
    code = "unknown-agency"
    title = "No such agency"
    title_vi = "Không có cơ quan này"
    description = "The agency is not in the catalogue, or has been retired"

    def __init__(self, agency_code: str, field: str) -> None:
        super().__init__(
            detail=f"the catalogue has no active agency {agency_code!r}",
            detail_vi=f"Danh mục cơ quan không có cơ quan đang hoạt động mã {agency_code!r}",
            errors=[
                {
                    "field": field,
                    "message": "not an active agency of the catalogue",
                    "message_vi": "không phải cơ quan đang hoạt động trong danh mục",
                }
            ],
        )
