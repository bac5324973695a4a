"""What the OpenAPI document says about problems: the shared ``responses=`` fragments and the
post-processing that keeps the published schema truthful."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.errors.model import PROBLEM_JSON, Problem, ProblemModel

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemModel"}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
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


def problem_responses(*problems: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the problems a route raises, one entry per status with every problem
    of that status as a named example, so the document lists each error a client must handle."""
    out: dict[int | str, dict[str, Any]] = {}
    for problem in problems:
        entry = out.setdefault(
            problem.status,
            {
                "model": ProblemModel,
                "description": problem.description or f"{problem.title} — {problem.title_vi}",
                "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF, "examples": {}}},
            },
        )
        examples = entry["content"][PROBLEM_JSON]["examples"]
        examples[problem.code] = {"summary": problem.title_vi, "value": problem.example()}
    return out
