"""Every error a client sees leaves as ``application/problem+json`` carrying the request path
and the request id: raised on purpose (:class:`Problem`), found by request validation, raised
by Starlette's routing (404, 405) or unexpected."""

from __future__ import annotations

import re
import socket
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors.messages_vi import field_errors
from shared.errors.model import (
    PROBLEM_JSON,
    Problem,
    internal_error,
    invalid_request,
    invalid_value,
    unsupported_media_type,
)
from shared.errors.openapi import _document_problems_only_as_problem_json
from shared.observability import request_id_var

log = structlog.get_logger(__name__)

# (problem code, English title, Vietnamese title) for errors Starlette raises itself.
_HTTP_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "Bad request", "Yêu cầu không hợp lệ"),
    401: ("unauthorized", "Not authenticated", "Chưa xác thực"),
    403: ("forbidden", "Forbidden", "Không có quyền"),
    404: ("not-found", "Not found", "Không tìm thấy"),
    405: ("method-not-allowed", "Method not allowed", "Phương thức không được hỗ trợ"),
    406: ("not-acceptable", "Not acceptable", "Không hỗ trợ định dạng yêu cầu"),
    409: ("conflict", "Conflict", "Xung đột trạng thái"),
    412: ("precondition-failed", "Precondition failed", "Điều kiện không thỏa"),
    413: ("payload-too-large", "Payload too large", "Dữ liệu quá lớn"),
    415: ("unsupported-media-type", "Unsupported media type", "Kiểu dữ liệu không được hỗ trợ"),
    422: ("validation-error", "The request is not valid", "Dữ liệu gửi lên không hợp lệ"),
    429: ("too-many-requests", "Too many requests", "Quá nhiều yêu cầu"),
    500: ("internal-error", "Internal error", "Lỗi hệ thống"),
    503: ("service-unavailable", "Service unavailable", "Dịch vụ tạm thời không sẵn sàng"),
}


def _request_id(request: Request) -> str | None:
    # The fallback handler for Exception runs outside the request-id middleware, whose
    # context is gone by then; the id it left in the scope's state is still there.
    state = request.scope.get("state") or {}
    return state.get("request_id") or request_id_var.get()


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    request_id = _request_id(request)
    headers = dict(problem.headers or {})
    if request_id:
        headers["X-Request-ID"] = request_id
    # The path is echoed as the instance; a hostile one must not carry its control characters
    # back out (into a client's logs, or past the schema's own clean-text pattern).
    instance = _CONTROL_CHARACTERS.sub("\ufffd", request.url.path)
    return JSONResponse(
        problem.body(instance, request_id),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what it wraps (a driver's error under SQLAlchemy's), then its causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = (
            orig
            if isinstance(orig, BaseException) and id(orig) not in seen
            else (current.__cause__ or current.__context__)
        )


def _is_data_error(exc: BaseException) -> bool:
    """An error the database (or its driver) raised because a value cannot be stored: a number
    out of its column's range, a NUL in text, an impossible date (SQLSTATE class 22).

    Input validation refuses these first; this is the net under it, so a bound someone forgot
    answers 422 and rolls back rather than 500."""
    for current in _causes(exc):
        if str(getattr(current, "sqlstate", "") or "").startswith("22"):
            return True
        if type(current).__name__ == "DataError" and type(current).__module__.startswith("asyncpg"):
            return True
    return False


# SQLSTATEs that say the server, not the request, is the trouble: connection exceptions (class
# 08), the server shutting down or crashing or still starting (57P01-57P03), no free
# connection slot (53300).
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")
_DATABASE_DRIVERS = ("asyncpg", "sqlalchemy")


def _raised_by_database_driver(exc: BaseException) -> bool:
    # A refused or reset connection is an OSError wherever it happens; only one that came out
    # of the driver says the database is away (an HTTP client's says another service is).
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(_DATABASE_DRIVERS)
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _is_database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached, or went away under the request: PostgreSQL down or
    restarting, its connection lost mid-transaction, or no connection free in time.

    None of that is the request's fault, and a retry in a moment is likely to succeed: the pool
    has discarded the dead connection (SQLAlchemy invalidates it on a disconnect, and
    shared.db.engine refuses closed ones at checkout). A transaction whose COMMIT was in flight
    may or may not have committed; a creation retried under its Idempotency-Key is answered
    once either way."""
    for current in _causes(exc):
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
            return True
        sqlstate = str(getattr(current, "sqlstate", "") or "")
        if sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES:
            return True
        if isinstance(
            current, (ConnectionError, TimeoutError, socket.gaierror)
        ) and _raised_by_database_driver(current):
            return True
    return False


# Long enough for a restarting PostgreSQL to accept connections again.
DATABASE_RETRY_AFTER_S = 2


def database_unavailable() -> Problem:
    return Problem(
        503,
        "database-unavailable",
        "The database is unavailable",
        "Cơ sở dữ liệu tạm thời không truy cập được",
        detail=f"The service cannot reach its database right now; retry in {DATABASE_RETRY_AFTER_S} s",
        detail_vi=f"Dịch vụ tạm thời không kết nối được cơ sở dữ liệu; vui lòng thử lại sau {DATABASE_RETRY_AFTER_S} giây",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


def _answer_unexpected(exc: BaseException, request: Request, method: str | None) -> JSONResponse:
    request_id = _request_id(request)
    if _is_database_unavailable(exc):
        # Only the kind: a driver's message can name hosts, and the statement its values.
        log.warning(
            "database unavailable",
            method=method,
            path=request.url.path,
            request_id=request_id,
            error=type(exc).__name__,
        )
        return problem_response(database_unavailable(), request)
    if _is_data_error(exc):
        # Only the kind: the message would quote the offending value.
        log.warning(
            "value refused by the database",
            method=method,
            path=request.url.path,
            request_id=request_id,
            error=type(exc).__name__,
        )
        return problem_response(invalid_value(), request)
    log.error(
        "unhandled error",
        method=method,
        path=request.url.path,
        request_id=request_id,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return problem_response(internal_error(request_id), request)


class _UnexpectedErrorMiddleware:
    """Answers an unhandled exception with a 500 problem while the request's context still holds.

    Starlette's own handler for ``Exception`` runs in its outermost middleware, after the
    request-id context is reset, and re-raises so the server logs the traceback a second time.
    Catching inside the request-id middleware logs once, with the request id bound, and lets the
    metrics middleware count a plain 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                # Part of the answer is on the wire; only the server can close the connection.
                raise
            response = _answer_unexpected(exc, Request(scope), scope.get("method"))
            await response(scope, receive, send)


def _body_not_json(request: Request, exc: RequestValidationError) -> bool:
    """FastAPI leaves a JSON body sent under another content type unparsed and reports the
    whole body as the wrong type; that is the client's media type, not its data."""
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return False
    if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return False
    return any(
        tuple(error.get("loc", ())) == ("body",)
        and error.get("type") in ("model_attributes_type", "dict_type", "list_type", "missing")
        for error in exc.errors()
    )


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class _PublishedPath:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    # Per method, the query parameters that may repeat (declared as arrays).
    repeatable: dict[str, frozenset[str]]


def _published_paths(app: FastAPI) -> list[_PublishedPath]:
    """Every published path as a pattern with what is served on it, read from the OpenAPI
    document (the one list of routes that included routers do not nest)."""
    cached = getattr(app.state, "published_paths", None)
    if cached is None:
        cached = []
        for template, item in app.openapi().get("paths", {}).items():
            methods = {m.upper() for m in item if m in _HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
            repeatable = {
                method.upper(): frozenset(
                    p["name"]
                    for p in operation.get("parameters", [])
                    if p.get("in") == "query" and _is_array(p.get("schema") or {})
                )
                for method, operation in item.items()
                if method in _HTTP_METHODS and isinstance(operation, dict)
            }
            if "GET" in repeatable:
                repeatable["HEAD"] = repeatable["GET"]
            pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
            cached.append(
                _PublishedPath(re.compile(f"^{pattern}$"), frozenset(methods), repeatable)
            )
        app.state.published_paths = cached
    return cached


def _is_array(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        return True
    return any(_is_array(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def repeatable_query_parameters(app: Any, path: str, method: str) -> frozenset[str] | None:
    """The query parameters the operation at ``path`` takes as lists, or None when no published
    operation serves it (routing will answer that request)."""
    if not isinstance(app, FastAPI):
        return None
    for published in _published_paths(app):
        if published.pattern.match(path) and method in published.repeatable:
            return published.repeatable[method]
    return None


def _allowed_methods(request: Request) -> list[str]:
    app = request.scope.get("app")
    if not isinstance(app, FastAPI):
        return []
    methods: set[str] = set()
    for published in _published_paths(app):
        if published.pattern.match(request.url.path):
            methods |= published.methods
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json; call before ``install_observability``.

    That order puts the catch-all inside the request-id middleware (middleware added later
    wraps middleware added earlier).
    """

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _body_not_json(request, exc):
            return problem_response(unsupported_media_type(), request)
        return problem_response(invalid_request(field_errors(exc)), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code, title, title_vi = _HTTP_PROBLEMS.get(
            status, (phrase.lower().replace(" ", "-"), phrase, "Lỗi")
        )
        # Starlette fills detail with the status phrase when nothing better was given.
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        if detail and detail.lower() in (title.lower(), phrase.lower()):
            detail = None
        headers = dict(exc.headers) if exc.headers else {}
        if status == 405:
            # Starlette names the methods of the first route whose path matched; a path served
            # by several routes (GET and POST apart) allows all of theirs.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        problem = Problem(status, code, title, title_vi, detail=detail, headers=headers or None)
        return problem_response(problem, request)

    # Last resort for errors raised by middleware outside the catch-all below.
    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _answer_unexpected(exc, request, request.method)

    app.add_middleware(_UnexpectedErrorMiddleware)
    _document_problems_only_as_problem_json(app)
