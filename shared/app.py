"""The FastAPI application every service builds: errors, auth, observability, health, AsyncAPI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from shared.auth import Authenticator
from shared.errors import install_problem_handlers
from shared.events.asyncapi import asyncapi_document
from shared.messaging.dead_letters.router import router as dead_letters_router
from shared.observability import configure_logging, health_router, install_observability
from shared.request_guard import RequestGuardMiddleware
from shared.runtime import Runtime
from shared.settings import ServiceSettings

# Allocations between collections of the youngest generation (CPython's default is 700).
GC_YOUNG_THRESHOLD = 20_000


def create_service_app(
    settings: ServiceSettings,
    build_runtime: Callable[[], Runtime],
    *,
    title: str,
    description: str,
    version: str,
    routers: Sequence[APIRouter],
    openapi_tags: list[dict[str, Any]] | None = None,
    publishes: Sequence[str] = (),
    consumes: Sequence[str] = (),
) -> FastAPI:
    """``publishes`` and ``consumes`` name the topics the service sends on and receives from,
    for its AsyncAPI document."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime()
        app.state.runtime = runtime
        await runtime.start()
        # Everything built so far (modules, the app, its routes and models, the pools) lives as
        # long as the process: frozen, the collector stops walking it in every full collection,
        # and the youngest generation waits for more allocations, so a request's short-lived
        # objects are mostly freed by reference counting before a collection would visit them.
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_tags=[
            *(openapi_tags or []),
            {"name": "ops", "description": "Vận hành: sức khỏe, hàng đợi lỗi"},
        ],
    )
    app.state.settings = settings
    app.state.authenticator = Authenticator(settings)
    install_problem_handlers(app)
    # Inside the request-id middleware, so its 413 and 422 carry the request's id.
    app.add_middleware(RequestGuardMiddleware, max_json_bytes=settings.max_json_body_bytes)
    install_observability(app, settings.service_name)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "X-Request-ID"],
        )

    async def database() -> None:
        await app.state.runtime.check_database()

    async def broker() -> None:
        await app.state.runtime.check_broker()

    async def consumer() -> None:
        await app.state.runtime.check_consumer()

    app.include_router(
        health_router({"database": database, "broker": broker, "consumer": consumer})
    )

    @app.get(
        "/asyncapi.json",
        tags=["ops"],
        summary="AsyncAPI document of the events",
        description=(
            "Tài liệu AsyncAPI của dịch vụ: các kênh (topic) dịch vụ gửi sự kiện và các kênh "
            "dịch vụ nhận, với đúng các loại sự kiện trên mỗi kênh."
        ),
    )
    async def asyncapi() -> dict[str, Any]:
        runtime: Runtime | None = getattr(app.state, "runtime", None)
        consumer = runtime.consumer if runtime is not None else None
        return asyncapi_document(
            title,
            version,
            settings.kafka_bootstrap_servers,
            publishes=publishes,
            consumes=consumes,
            # What the handlers accept, once the consumer is built; before that, every type.
            consumed_types=consumer.event_types if consumer is not None else None,
        )

    app.include_router(dead_letters_router)
    for router in routers:
        app.include_router(router)
    return app
