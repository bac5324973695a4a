"""The problem model (RFC 9457) and the problems every service raises.

A feature's own problems subclass :class:`Problem` with their status, code and titles as class
attributes, so the route that raises one can declare it in ``responses=`` from the class."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

from shared.observability import request_id_var

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://motcua.gov.vn/problems/"


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
    """An error a client sees. A feature declares each of its errors as a subclass whose class
    attributes say what it is::

        class DossierNotFound(Problem):
            status = 404
            code = "dossier-not-found"
            title = "No such dossier"
            title_vi = "Không tìm thấy hồ sơ"

        raise DossierNotFound(detail=...)

    and declares it on its routes with ``responses=problem_responses(DossierNotFound)``. The
    positional form ``Problem(status, code, title, title_vi, …)`` stays for one-off answers."""

    status: int = 500
    code: str = "internal-error"
    title: str = "Internal error"
    title_vi: str = "Lỗi hệ thống"
    description: ClassVar[str | None] = None

    def __init__(
        self,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        title_vi: str | None = None,
        detail: str | None = None,
        detail_vi: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        cls = type(self)
        self.status = cls.status if status is None else status
        self.code = cls.code if code is None else code
        self.title = cls.title if title is None else title
        self.title_vi = cls.title_vi if title_vi is None else title_vi
        super().__init__(self.title)
        self.detail = detail
        self.detail_vi = detail_vi
        self.errors = errors
        self.headers = headers

    @classmethod
    def example(cls) -> dict[str, Any]:
        """The problem as a client receives it, for the OpenAPI document."""
        return {
            "type": TYPE_BASE + cls.code,
            "title": cls.title,
            "title_vi": cls.title_vi,
            "status": cls.status,
        }

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


def invalid_value() -> Problem:
    return Problem(
        422,
        "invalid-value",
        "A value is out of range",
        "Giá trị nằm ngoài phạm vi cho phép",
        detail="A number, date or text in the request cannot be stored; nothing was changed",
        detail_vi="Có số, ngày hoặc chuỗi không thể lưu trữ; chưa có thay đổi nào được ghi",
    )


def unsupported_media_type() -> Problem:
    return Problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        "Kiểu dữ liệu không được hỗ trợ",
        detail="Send the body as application/json",
        detail_vi="Gửi thân yêu cầu dạng application/json",
    )
