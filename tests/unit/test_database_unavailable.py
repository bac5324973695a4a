"""A database that cannot be reached answers 503 with Retry-After; a refused connection that did
not come from the database driver is still an unexpected error."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.infra import free_port
from shared.errors import install_problem_handlers


def app(closed_port: int) -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)

    @application.get("/from-database")
    async def from_database() -> dict[str, int]:
        engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/x")
        try:
            async with engine.connect() as conn:
                return {"n": (await conn.execute(text("SELECT 1"))).scalar_one()}
        finally:
            await engine.dispose()

    @application.get("/from-another-service")
    async def from_another_service() -> dict[str, int]:
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{closed_port}/")
        return {"n": 1}

    return application


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app(free_port()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_unreachable_database_is_503_problem_with_retry_after() -> None:
    r = await get("/from-database")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["type"].endswith("/database-unavailable")


async def test_refused_connection_to_another_service_is_not_blamed_on_the_database() -> None:
    r = await get("/from-another-service")
    assert r.status_code == 500
    assert r.json()["type"].endswith("/internal-error")
