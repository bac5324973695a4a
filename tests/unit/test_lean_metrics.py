"""Requests are counted for /metrics by route template, from the route routing chose."""

from __future__ import annotations

import re

import httpx
from fastapi import APIRouter, FastAPI

from shared.errors import install_problem_handlers
from shared.observability import health_router, install_observability


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_observability(app, "test")
    router = APIRouter(prefix="/v1/lean-things")

    @router.get("/{code}")
    async def thing(code: str) -> dict[str, str]:
        return {"code": code}

    app.include_router(router)
    app.include_router(health_router({}))
    return app


def _count(text: str, method: str, handler: str, status: str) -> float:
    pattern = (
        rf'^http_requests_total\{{handler="{re.escape(handler)}",method="{method}",'
        rf'status="{status}"\}} (\S+)$'
    )
    found = re.search(pattern, text, re.MULTILINE)
    return float(found[1]) if found else 0.0


async def test_requests_are_counted_by_template_and_status_class() -> None:
    app = _app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        before = (await client.get("/metrics")).text
        for code in ("a1", "b2", "c3"):
            answer = await client.get(f"/v1/lean-things/{code}")
            assert answer.status_code == 200
            assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
        assert (await client.get("/v1/lean-nothing/here")).status_code == 404
        await client.get("/healthz")
        after = (await client.get("/metrics")).text
    template = "/v1/lean-things/{code}"
    assert _count(after, "GET", template, "2xx") - _count(before, "GET", template, "2xx") == 3
    # Each concrete path is not a series of its own.
    assert "/v1/lean-things/a1" not in after
    assert _count(after, "GET", "none", "4xx") - _count(before, "GET", "none", "4xx") == 1
    assert 'handler="/healthz"' not in after and 'handler="/metrics"' not in after
    assert (
        'http_request_duration_seconds_count{handler="/v1/lean-things/{code}",method="GET"}'
        in after
    )
