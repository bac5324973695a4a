"""Reading intake's catalogue of agencies, so that no step is ever sent to, and no officer
recorded in, an agency that does not exist or has been retired."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import structlog

from shared.errors import Problem

log = structlog.get_logger(__name__)


def unknown_agency(code: str, field: str) -> Problem:
    return Problem(
        422,
        "unknown-agency",
        "No such agency",
        "Không có cơ quan này",
        detail=f"intake knows no active agency {code!r}",
        detail_vi=f"Danh mục cơ quan không có cơ quan đang hoạt động mã {code!r}",
        errors=[
            {
                "field": field,
                "message": "not an active agency of the catalogue",
                "message_vi": "không phải cơ quan đang hoạt động trong danh mục",
            }
        ],
    )


def intake_unavailable() -> Problem:
    return Problem(
        503,
        "intake-unavailable",
        "The agency catalogue cannot be read now",
        "Chưa đọc được danh mục cơ quan",
        detail="intake did not answer; try again shortly",
        detail_vi="Hệ thống tiếp nhận chưa trả lời; vui lòng thử lại sau ít phút",
        headers={"Retry-After": "5"},
    )


async def require_active_agency(base_url: str, timeout_s: float, code: str, field: str) -> None:
    """Nothing when intake knows ``code`` as an active agency; a 422 problem when it does not,
    a 503 problem when intake cannot say."""
    url = f"{base_url.rstrip('/')}/v1/agencies/{quote(code, safe='')}"
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        log.warning("intake_unreachable", error=type(exc).__name__)
        raise intake_unavailable() from exc
    if response.status_code in (404, 422):
        raise unknown_agency(code, field)
    if response.status_code != 200:
        log.warning("intake_agency_read_failed", status=response.status_code)
        raise intake_unavailable()
    try:
        retired = response.json().get("retired_at")
    except ValueError as exc:
        raise intake_unavailable() from exc
    if retired is not None:
        raise unknown_agency(code, field)
