"""Errors as RFC 9457 problem details, with Vietnamese beside the English.

Every error a client sees, whether raised on purpose (:class:`Problem`), found by request
validation, raised by Starlette's routing (404, 405) or unexpected, leaves as
``application/problem+json`` carrying the request path and the request id, so a citizen's
complaint or an officer's screenshot leads straight to the log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability import request_id_var

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://motcua.gov.vn/problems/"

log = structlog.get_logger(__name__)


class FieldErrorModel(BaseModel):
    field: str = Field(
        description="đường dẫn của trường lỗi, bắt đầu bằng vị trí (body, query, path, header)",
        examples=["body.applicant.id_number"],
    )
    message: str = Field(examples=["String should have at least 12 characters"])
    message_vi: str = Field(examples=["Phải có ít nhất 12 ký tự"])


class ProblemModel(BaseModel):
    """application/problem+json (RFC 9457), tiêu đề và chi tiết có bản tiếng Việt."""

    type: str = Field(
        description="URI định danh loại lỗi", examples=[TYPE_BASE + "validation-error"]
    )
    title: str = Field(examples=["The request is not valid"])
    title_vi: str = Field(examples=["Dữ liệu gửi lên không hợp lệ"])
    status: int = Field(examples=[422])
    detail: str | None = None
    detail_vi: str | None = None
    instance: str | None = Field(
        None, description="đường dẫn của yêu cầu gây lỗi", examples=["/v1/dossiers"]
    )
    request_id: str | None = Field(
        None,
        description="mã yêu cầu (X-Request-ID), dùng khi báo lỗi cho bộ phận hỗ trợ",
        examples=["3f2b8c1e9a7d4e6f8b0c1d2e3f4a5b6c"],
    )
    errors: list[FieldErrorModel] | None = Field(
        None, description="từng trường không hợp lệ (chỉ có ở lỗi 422)"
    )


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        title_vi: str,
        detail: str | None = None,
        detail_vi: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.title_vi = title_vi
        self.detail = detail
        self.detail_vi = detail_vi
        self.errors = errors
        self.headers = headers

    @property
    def type(self) -> str:
        return TYPE_BASE + self.code

    def body(self, instance: str | None, request_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "title_vi": self.title_vi,
            "status": self.status,
            "instance": instance,
            "request_id": request_id or request_id_var.get(),
        }
        if self.detail:
            body["detail"] = self.detail
        if self.detail_vi:
            body["detail_vi"] = self.detail_vi
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.code!r}, detail={self.detail!r})"


def not_found(what: str, what_vi: str) -> Problem:
    return Problem(404, "not-found", f"No such {what}", f"Không tìm thấy {what_vi}")


def forbidden(detail: str | None = None) -> Problem:
    return Problem(403, "forbidden", "Forbidden", "Không có quyền", detail=detail)


def unauthorized(detail: str | None = None) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Not authenticated",
        "Chưa xác thực",
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def expected_version(if_match: str | None) -> int:
    """The version an ``If-Match`` header names: 428 when absent, 412 when it is no version of
    ours (it can then match nothing)."""
    if not if_match:
        raise Problem(
            428,
            "precondition-required",
            "If-Match is required",
            "Thiếu tiêu đề If-Match",
            detail="Send the ETag you read with the resource, so two officers never overwrite each other",
            detail_vi="Gửi ETag nhận được khi đọc để tránh hai người cùng sửa",
        )
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise precondition_failed()
    return int(raw)


def conflict(detail: str, detail_vi: str) -> Problem:
    return Problem(
        409, "conflict", "Conflict", "Xung đột trạng thái", detail=detail, detail_vi=detail_vi
    )


def invalid_request(errors: list[dict[str, str]]) -> Problem:
    """The one 422 for a request whose fields are wrong, each named in ``errors`` (``field``,
    ``message``, ``message_vi``), whether the schema or a later check found them."""
    return Problem(
        422,
        "validation-error",
        "The request is not valid",
        "Dữ liệu gửi lên không hợp lệ",
        detail="See errors for every field that is wrong",
        detail_vi="Xem danh sách lỗi của từng trường",
        errors=errors,
    )


def precondition_failed() -> Problem:
    return Problem(
        412,
        "precondition-failed",
        "The resource has changed",
        "Hồ sơ đã được người khác cập nhật",
        detail="If-Match does not match the current ETag; read again and retry",
        detail_vi="Phiên bản không khớp; hãy tải lại rồi thực hiện lại",
    )


_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemModel"}}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemModel, "description": description, "content": _PROBLEM_CONTENT}
    for status, description in {
        400: "Bad request — yêu cầu không hợp lệ",
        401: "Not authenticated — chưa xác thực",
        403: "Forbidden — không có quyền",
        404: "Not found — không tìm thấy",
        409: "Conflict — xung đột trạng thái",
        412: "Precondition failed — phiên bản đã thay đổi",
        422: "Validation error — dữ liệu không hợp lệ",
        500: "Internal error — lỗi hệ thống",
    }.items()
}

# Only for routes that take If-Match: without it they answer 428.
IF_MATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    428: {
        "model": ProblemModel,
        "description": "Precondition required — thiếu If-Match (ETag đã đọc)",
        "content": _PROBLEM_CONTENT,
    }
}

# Every route with a JSON body: too large a body (413), a body that is not JSON (415).
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemModel, "description": description, "content": _PROBLEM_CONTENT}
    for status, description in {
        413: "Payload too large — thân yêu cầu vượt quá giới hạn",
        415: "Unsupported media type — kiểu dữ liệu không được hỗ trợ",
    }.items()
}

# Only for routes that limit how often they may be called (public lookup, QR ratings).
RATE_LIMITED_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ProblemModel,
        "description": "Too many requests — vượt quá số lần cho phép, thử lại sau Retry-After giây",
        "content": _PROBLEM_CONTENT,
    }
}

# Templates use pydantic's error context, so a Vietnamese reader gets the same limits the
# English message states ("ít nhất 12 ký tự"), not only that something is wrong.
_VI_MESSAGES = {
    "missing": "Thiếu trường bắt buộc",
    "string_type": "Phải là chuỗi ký tự",
    "string_too_short": "Phải có ít nhất {min_length} ký tự",
    "string_too_long": "Không được quá {max_length} ký tự",
    "string_pattern_mismatch": "Không đúng định dạng yêu cầu",
    "int_parsing": "Phải là số nguyên",
    "int_type": "Phải là số nguyên",
    "int_from_float": "Phải là số nguyên",
    "float_parsing": "Phải là số",
    "float_type": "Phải là số",
    "decimal_parsing": "Phải là số",
    "decimal_type": "Phải là số",
    "greater_than": "Phải lớn hơn {gt}",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge}",
    "less_than": "Phải nhỏ hơn {lt}",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le}",
    "enum": "Phải là một trong các giá trị: {expected}",
    "literal_error": "Phải là một trong các giá trị: {expected}",
    "json_invalid": "JSON không hợp lệ",
    "json_type": "JSON không hợp lệ",
    "value_error": "Giá trị không hợp lệ",
    "assertion_error": "Giá trị không hợp lệ",
    "uuid_parsing": "Không phải UUID hợp lệ",
    "uuid_type": "Không phải UUID hợp lệ",
    "date_parsing": "Ngày không hợp lệ (định dạng YYYY-MM-DD)",
    "date_type": "Ngày không hợp lệ (định dạng YYYY-MM-DD)",
    "date_from_datetime_parsing": "Ngày không hợp lệ (định dạng YYYY-MM-DD)",
    "datetime_parsing": "Thời điểm không hợp lệ (định dạng ISO 8601)",
    "datetime_type": "Thời điểm không hợp lệ (định dạng ISO 8601)",
    "datetime_from_date_parsing": "Thời điểm không hợp lệ (định dạng ISO 8601)",
    "timezone_aware": "Thời điểm phải có múi giờ",
    "extra_forbidden": "Trường này không được phép",
    "model_attributes_type": "Phải là một đối tượng",
    "model_type": "Phải là một đối tượng",
    "dict_type": "Phải là một đối tượng",
    "list_type": "Phải là một danh sách",
    "bool_parsing": "Phải là true hoặc false",
    "bool_type": "Phải là true hoặc false",
    "too_short": "Phải có ít nhất {min_length} phần tử",
    "too_long": "Không được quá {max_length} phần tử",
    "url_parsing": "Địa chỉ URL không hợp lệ",
    "url_type": "Địa chỉ URL không hợp lệ",
    "union_tag_invalid": "Loại không được hỗ trợ: {tag}",
    "union_tag_not_found": "Thiếu trường phân loại {discriminator}",
}
_VI_FALLBACK = "Giá trị không hợp lệ"

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


def _message_vi(error: dict[str, Any]) -> str:
    kind = str(error.get("type"))
    template = _VI_MESSAGES.get(kind)
    if template is None:
        return _VI_FALLBACK
    context = error.get("ctx") or {}
    if "expected" in context:
        # pydantic joins choices with an English "or".
        context = {**context, "expected": str(context["expected"]).replace(" or ", " hoặc ")}
    try:
        message_vi = template.format(**context)
    except (KeyError, IndexError, ValueError):
        message_vi = template.split("{", 1)[0].rstrip(": ")
    if kind == "value_error":
        # Our own validators explain themselves in English; keep their reason.
        reason = str(error.get("msg", "")).removeprefix("Value error, ")
        if reason:
            message_vi = f"{message_vi}: {reason}"
    return message_vi


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Every bad field as ``{field, message, message_vi}``; ``field`` keeps its location prefix.

    The prefix stays (``body.applicant.id_number``, ``query.limit``) because the same name can be
    both a query parameter and a body field, and a client must know which one to fix.
    """
    errors = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "Invalid value"))
        errors.append({"field": field, "message": message, "message_vi": _message_vi(error)})
    return errors


def internal_error(request_id: str | None) -> Problem:
    # Never the exception's text: it may hold SQL, personal data or paths.
    return Problem(
        500,
        "internal-error",
        "Internal error",
        "Lỗi hệ thống",
        detail=f"An unexpected error occurred; quote request id {request_id} to support",
        detail_vi=f"Đã xảy ra lỗi ngoài dự kiến; vui lòng báo mã yêu cầu {request_id} cho bộ phận hỗ trợ",
    )


def _is_data_error(exc: BaseException) -> bool:
    """An error the database (or its driver) raised because a value cannot be stored: a number
    out of its column's range, a NUL in text, an impossible date (SQLSTATE class 22).

    Input validation refuses these first; this is the net under it, so a bound someone forgot
    answers 422 and rolls back rather than 500."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if str(getattr(current, "sqlstate", "") or "").startswith("22"):
            return True
        if type(current).__name__ == "DataError" and type(current).__module__.startswith("asyncpg"):
            return True
        orig = getattr(current, "orig", None)
        current = (
            orig
            if isinstance(orig, BaseException) and id(orig) not in seen
            else (current.__cause__ or current.__context__)
        )
    return False


def invalid_value() -> Problem:
    return Problem(
        422,
        "invalid-value",
        "A value is out of range",
        "Giá trị nằm ngoài phạm vi cho phép",
        detail="A number, date or text in the request cannot be stored; nothing was changed",
        detail_vi="Có số, ngày hoặc chuỗi không thể lưu trữ; chưa có thay đổi nào được ghi",
    )


def _answer_unexpected(exc: BaseException, request: Request, method: str | None) -> JSONResponse:
    request_id = _request_id(request)
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


def unsupported_media_type() -> Problem:
    return Problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        "Kiểu dữ liệu không được hỗ trợ",
        detail="Send the body as application/json",
        detail_vi="Gửi thân yêu cầu dạng application/json",
    )


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
        detail = exc.detail if isinstance(exc.detail, str) else None
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


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": dict(_PROBLEM_CONTENT)}


# What shared.text and the request guard accept in free text, as a JSON Schema pattern, so the
# published schema says what the service refuses (tab, line feed and carriage return pass).
CLEAN_TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"


def _forbid_controls(node: Any) -> None:
    """Give every plain string schema (no pattern, format, enum or const of its own) the
    clean-text pattern, wherever it is nested."""
    if isinstance(node, list):
        for item in node:
            _forbid_controls(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not any(
        k in node for k in ("pattern", "format", "enum", "const", "contentMediaType")
    ):
        node["pattern"] = CLEAN_TEXT_PATTERN
    for key, value in node.items():
        if key in ("properties", "patternProperties", "$defs", "schemas") and isinstance(
            value, dict
        ):
            # Names here are the document's own (a property may well be called "description").
            for item in value.values():
                _forbid_controls(item)
        elif key not in ("examples", "example", "default", "description"):
            _forbid_controls(value)


def _truthful(schema: dict[str, Any]) -> dict[str, Any]:
    """What the shared layers answer on every route, written into each operation.

    The request guard refuses control characters in any parameter or JSON field (422) and
    JSON bodies over the cap (413); a body under another media type is a 415; a route that
    answers 428 without If-Match requires the header; a PDF is a binary string.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ProblemModel" not in components:
        model_schema = ProblemModel.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components["ProblemModel"] = model_schema
    _forbid_controls(components)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            _forbid_controls(operation.get("parameters", []))
            _forbid_controls(operation.get("requestBody", {}))
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content") or {}
                if (
                    not str(status).startswith("2")
                    and PROBLEM_JSON in content
                    and content.get("application/json") == content[PROBLEM_JSON]
                ):
                    del content["application/json"]
                pdf = content.get("application/pdf")
                if pdf is not None and not pdf.get("schema"):
                    pdf["schema"] = {"type": "string", "format": "binary"}
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("422", _problem(PROBLEM_RESPONSES[422]["description"]))
            # Every body has a size limit (the guard's for JSON, the route's for uploads) and a
            # media type the route insists on.
            if operation.get("requestBody"):
                for status in (413, 415):
                    responses.setdefault(
                        str(status), _problem(BODY_RESPONSES[status]["description"])
                    )
            if "428" in responses:
                for parameter in operation.get("parameters", []):
                    if (
                        parameter.get("in") == "header"
                        and parameter.get("name", "").lower() == "if-match"
                    ):
                        parameter["required"] = True
    return schema


def _document_problems_only_as_problem_json(app: FastAPI) -> None:
    """Make the published OpenAPI say what the service answers (see :func:`_truthful`).

    Among others it drops the ``application/json`` twin FastAPI adds beside each declared
    problem response: a ``model`` in ``responses=`` is what registers ProblemModel among the
    schemas, but FastAPI also files it under the route's own media type, which would promise
    clients JSON that never comes.
    """
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        app.openapi_schema = _truthful(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
