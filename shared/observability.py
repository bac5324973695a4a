"""Structured JSON logs carrying request and event ids, Prometheus metrics, health endpoints."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

import orjson
import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)


def _orjson_dumps(obj: object, default: Callable[[object], object] | None = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def configure_logging(service_name: str, level: str = "INFO", json: bool = True) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _add_service(service_name),
    ]
    renderer = (
        structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Route the standard library (uvicorn, aiokafka, SQLAlchemy) through the same renderer.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def _add_service(service_name: str) -> Callable[..., dict[str, object]]:
    def add(_logger: object, _method: str, event: dict[str, object]) -> dict[str, object]:
        event.setdefault("service", service_name)
        return event

    return add


class RequestIdMiddleware:
    """Pure ASGI, so it costs little on every request: takes or makes ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:128] if incoming else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)


def install_observability(app: FastAPI, service_name: str) -> None:
    app.add_middleware(RequestIdMiddleware)
    Instrumentator(excluded_handlers=["/metrics", "/healthz", "/readyz"]).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False
    )


def health_router(readiness_checks: dict[str, Callable[[], Awaitable[None]]]) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get(
        "/healthz",
        summary="Liveness",
        description="Tiến trình còn sống; không kiểm tra gì khác.",
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness",
        description="Sẵn sàng phục vụ: cơ sở dữ liệu, Kafka và bộ tiêu thụ sự kiện đều hoạt động.",
        responses={503: {"description": "một thành phần chưa sẵn sàng"}},
    )
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in readiness_checks.items():
            try:
                await asyncio.wait_for(check(), timeout=2)
                results[name] = "ok"
            except Exception as exc:  # a check's failure is the answer, not an error
                results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router
