"""Errors as RFC 9457 problem details, with a Vietnamese title beside the English one."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.observability import request_id_var

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://motcua.gov.vn/problems/"

log = structlog.get_logger(__name__)


class FieldError(BaseModel):
    field: str = Field(description="đường dẫn của trường lỗi, ví dụ body.applicant.id_number")
    message: str
    message_vi: str


class ProblemModel(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str
    title: str
    title_vi: str
    status: int
    detail: str | None = None
    detail_vi: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        title_vi: str,
        detail: str | None = None,
        detail_vi: str | None = None,
        errors: list[dict[str, str]] | None = None,
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

    def body(self, instance: str | None, request_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
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


def conflict(detail: str, detail_vi: str) -> Problem:
    return Problem(
        409, "conflict", "Conflict", "Xung đột trạng thái", detail=detail, detail_vi=detail_vi
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

_VI_MESSAGES = {
    "missing": "Thiếu trường bắt buộc",
    "string_too_short": "Chuỗi quá ngắn",
    "string_too_long": "Chuỗi quá dài",
    "string_pattern_mismatch": "Không đúng định dạng",
    "string_type": "Phải là chuỗi ký tự",
    "int_parsing": "Phải là số nguyên",
    "int_type": "Phải là số nguyên",
    "float_parsing": "Phải là số",
    "greater_than": "Giá trị quá nhỏ",
    "greater_than_equal": "Giá trị quá nhỏ",
    "less_than": "Giá trị quá lớn",
    "less_than_equal": "Giá trị quá lớn",
    "enum": "Giá trị không thuộc danh sách cho phép",
    "literal_error": "Giá trị không thuộc danh sách cho phép",
    "json_invalid": "JSON không hợp lệ",
    "value_error": "Giá trị không hợp lệ",
    "uuid_parsing": "Không phải UUID hợp lệ",
    "uuid_type": "Không phải UUID hợp lệ",
    "date_parsing": "Ngày không hợp lệ",
    "date_from_datetime_parsing": "Ngày không hợp lệ",
    "datetime_parsing": "Thời điểm không hợp lệ",
    "datetime_from_date_parsing": "Thời điểm không hợp lệ",
    "extra_forbidden": "Trường không được phép",
    "model_attributes_type": "Phải là một đối tượng",
    "dict_type": "Phải là một đối tượng",
    "model_type": "Phải là một đối tượng",
    "list_type": "Phải là một danh sách",
    "bool_parsing": "Phải là true hoặc false",
    "bool_type": "Phải là true hoặc false",
    "too_short": "Quá ít phần tử",
    "too_long": "Quá nhiều phần tử",
}
_STATUS_TITLES = {
    400: ("Bad request", "Yêu cầu không hợp lệ"),
    401: ("Not authenticated", "Chưa xác thực"),
    403: ("Forbidden", "Không có quyền"),
    404: ("Not found", "Không tìm thấy"),
    405: ("Method not allowed", "Phương thức không được hỗ trợ"),
    406: ("Not acceptable", "Không hỗ trợ định dạng yêu cầu"),
    409: ("Conflict", "Xung đột trạng thái"),
    412: ("Precondition failed", "Điều kiện không thỏa"),
    413: ("Payload too large", "Dữ liệu quá lớn"),
    415: ("Unsupported media type", "Kiểu dữ liệu không được hỗ trợ"),
    429: ("Too many requests", "Quá nhiều yêu cầu"),
}


def _request_id(request: Request) -> str | None:
    # An unhandled error is answered outside the request-id middleware, whose context is gone
    # by then; the id it left in the scope's state is still there.
    return request.scope.get("state", {}).get("request_id") or request_id_var.get()


def _response(problem: Problem, request: Request) -> JSONResponse:
    request_id = _request_id(request)
    headers = dict(problem.headers or {})
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(
        problem.body(request.url.path, request_id),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        location = ".".join(str(part) for part in err.get("loc", ()))
        message = str(err.get("msg", "invalid value"))
        message_vi = _VI_MESSAGES.get(str(err.get("type")), "Giá trị không hợp lệ")
        if err.get("type") == "value_error":
            # Our own validators explain themselves in English; keep their reason.
            message_vi = f"{message_vi}: {message.removeprefix('Value error, ')}"
        errors.append({"field": location, "message": message, "message_vi": message_vi})
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return _response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problem = Problem(
            422,
            "validation-error",
            "The request is not valid",
            "Dữ liệu gửi lên không hợp lệ",
            detail="See errors for every field that is wrong",
            detail_vi="Xem danh sách lỗi của từng trường",
            errors=_field_errors(exc),
        )
        return _response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, title_vi = _STATUS_TITLES.get(exc.status_code, ("Error", "Lỗi"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        problem = Problem(
            exc.status_code,
            title.lower().replace(" ", "-"),
            title,
            title_vi,
            detail=detail,
            headers=dict(exc.headers) if exc.headers else None,
        )
        return _response(problem, request)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = _request_id(request)
        log.exception("unhandled error", path=request.url.path, request_id=request_id)
        problem = Problem(
            500,
            "internal-error",
            "Internal error",
            "Lỗi hệ thống",
            detail=f"An unexpected error occurred; quote request id {request_id} to support",
            detail_vi=f"Đã xảy ra lỗi ngoài dự kiến; vui lòng báo mã yêu cầu {request_id}",
        )
        return _response(problem, request)
