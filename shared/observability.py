"""Structured JSON logs carrying request and event ids, Prometheus metrics, health endpoints."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)

READINESS_TIMEOUT_S = 2.0

# A caller's id goes into every log line and back into a header, so only a plain token is
# trusted; anything else is replaced rather than echoed.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
# Seeded from the operating system when the process starts.
_random = random.Random()


def _orjson_dumps(obj: object, default: Callable[[object], object] | None = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def _add_service(service_name: str) -> structlog.types.Processor:
    def add(_logger: object, _method: str, event: Any) -> Any:
        event.setdefault("service", service_name)
        return event

    return add


# Citizen ID numbers (9 or 12 digits) and phone numbers (10) standing alone, as a URL path
# or a library's message may carry them: the middle digits never reach a log line.
_PERSONAL_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{3,6}(\d{3})(?![0-9A-Za-z])")


# A lookup verifier in a query string is a working credential for that dossier.
_VERIFIER = re.compile(r"(verifier=)[^&\s\"']*")


def _mask_numbers(text: str) -> str:
    text = _VERIFIER.sub(r"\1***", text)
    return _PERSONAL_NUMBER.sub(lambda m: f"{m[1]}{'*' * (len(m[0]) - 6)}{m[2]}", text)


def mask_personal_numbers(_logger: object, _method: str, event: Any) -> Any:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = _mask_numbers(value)
    return event


def configure_logging(service_name: str, level: str = "INFO", json: bool = True) -> None:
    """One line per event, JSON by default, for structlog and standard-library loggers alike."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _add_service(service_name),
        mask_personal_numbers,
    ]
    renderer: structlog.types.Processor
    final: list[structlog.types.Processor]
    if json:
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        # The traceback as one string field, so it stays inside its JSON line.
        final = [structlog.processors.format_exc_info, renderer]
    else:
        # The console renderer prints exceptions itself, more readably.
        renderer = structlog.dev.ConsoleRenderer()
        final = [renderer]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # uvicorn, aiokafka and SQLAlchemy log through the standard library; the same formatter
    # turns their records into the same lines.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        # uvicorn's ``--no-access-log`` leaves the access logger without handlers and not
        # propagating, and each connection logs only if the logger has somewhere to write:
        # propagating it to the root here would switch a line per request back on.
        enabled = bool(logger.handlers) or logger.propagate
        logger.handlers[:] = []
        logger.propagate = enabled
    # A request's line is at INFO: a service run at WARNING writes none, whatever uvicorn's own
    # ``--log-level``.
    logging.getLogger("uvicorn.access").setLevel(root.level)
    # aiokafka reports every reconnect attempt at INFO; only trouble is worth a line.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


# Requests counted by method, route template and status class; the route is the one routing
# chose (``scope["route"]``), read once the request is answered, so no route table is scanned
# per request, and a path nothing serves is counted under "none" rather than as itself (which
# would give every probed URL a series of its own).
REQUESTS = Counter(
    "http_requests_total",
    "Requests answered, by method, route template and status class",
    ["method", "handler", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by method and route template",
    ["method", "handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# Operations endpoints, polled by machines: counting them would drown the requests that matter.
UNCOUNTED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


def _new_request_id() -> str:
    # Unique, not secret: 128 bits of the process's seeded generator, spelt like a uuid4's hex,
    # without the system call ``uuid.uuid4`` makes for each one.
    return f"{_random.getrandbits(128):032x}"


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Pure ASGI, so it costs little on every request: takes or makes ``X-Request-ID``, and
    counts and times the request for ``/metrics``.

    The id is bound for the request's logs, kept in ``scope["state"]`` for handlers that run
    after this middleware has returned, and echoed in the response. One layer does both, so a
    request passes through one wrapper of ``send`` for them rather than two.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The series' children by label values: ``labels()`` takes a lock and builds a key on
        # every call, a dictionary read does not.
        self._counters: dict[tuple[str, str, str], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _REQUEST_ID.fullmatch(incoming) else _new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        log_tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        encoded = request_id.encode("latin-1")
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (name, value)
                    for name, value in message.get("headers") or ()
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**log_tokens)
            request_id_var.reset(token)
            self._count(scope, status, time.perf_counter() - started)

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        handler: str = getattr(route, "path", None) or "none"
        if handler in UNCOUNTED_PATHS:
            return
        # A method outside the standard set is one series, not one per invented token.
        method: str = scope["method"] if scope["method"] in _METHODS else "other"
        key = (method, handler, _STATUS_CLASSES.get(status // 100, str(status)))
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = REQUESTS.labels(*key)
        counter.inc()
        timer = self._timers.get(key[:2])
        if timer is None:
            timer = self._timers[key[:2]] = LATENCY.labels(method, handler)
        timer.observe(seconds)


def install_observability(app: FastAPI, service_name: str) -> None:
    """Request ids and Prometheus metrics at ``/metrics``.

    Each service runs in its own process, so the default registry holds one service's series
    and no ``service`` label is added: Prometheus's ``job``/``instance`` labels tell services
    apart. ``service_name`` is taken so callers need not change if that ever stops being true.
    """
    app.add_middleware(RequestIdMiddleware)
    # Only the endpoint: the requests are counted by the middleware above.
    Instrumentator().expose(app, endpoint="/metrics", include_in_schema=False)


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(description="ready | not_ready", examples=["ready"])
    checks: dict[str, str] = Field(
        description="kết quả từng phần kiểm tra: ok hoặc error: lý do",
        examples=[{"database": "ok", "broker": "ok", "consumer": "ok"}],
    )


async def _run_check(check: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(check(), timeout=READINESS_TIMEOUT_S)
    except TimeoutError:
        return f"error: no answer within {READINESS_TIMEOUT_S:g} s"
    except Exception as exc:  # a check's failure is the answer, not an error
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


def health_router(readiness_checks: dict[str, Callable[[], Awaitable[None]]]) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get(
        "/healthz",
        summary="Liveness: the process is alive",
        description="Tiến trình còn sống. Không kiểm tra cơ sở dữ liệu hay Kafka, để bộ điều phối không khởi động lại dịch vụ chỉ vì một thành phần phụ thuộc gặp sự cố.",
        response_model=Health,
    )
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        summary="Readiness: dependencies answer",
        description=(
            f"Sẵn sàng phục vụ: kiểm tra đồng thời {', '.join(readiness_checks) or 'không có thành phần nào'}, "
            f"mỗi phần tối đa {READINESS_TIMEOUT_S:g} giây. Trả 503 khi một phần chưa sẵn sàng, "
            "để bộ cân bằng tải tạm ngừng chuyển yêu cầu đến."
        ),
        response_model=Readiness,
        responses={
            503: {
                "model": Readiness,
                "description": "một thành phần chưa sẵn sàng",
                "content": {
                    "application/json": {
                        "example": {
                            "status": "not_ready",
                            "checks": {
                                "database": "ok",
                                "broker": "error: no answer within 2 s",
                            },
                        }
                    }
                },
            }
        },
    )
    async def readyz() -> JSONResponse:
        names = list(readiness_checks)
        outcomes = await asyncio.gather(*(_run_check(readiness_checks[n]) for n in names))
        results = dict(zip(names, outcomes, strict=True))
        ready = all(outcome == "ok" for outcome in outcomes)
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router
