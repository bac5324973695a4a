"""Refuses hostile input before any route sees it: control characters anywhere in the path, the
query or a JSON body, and JSON bodies larger than the service accepts.

Every service mounts it (see :func:`shared.app.create_service_app`), so a field added tomorrow is
covered without anyone remembering to annotate it. PostgreSQL refuses a NUL in text outright and
the other C0 controls only ever arrive in broken or hostile input; caught here they answer the
same 422 problem as any other invalid field (with the field's location), never a 500 from the
database and never a half-written change.

The size cap answers 413 before the body is parsed, so a client cannot make a service hold or
parse megabytes to find out it was wrong. It holds for JSON and for any body under another
type; uploads (multipart, PDF, images) keep the limits of the routes that take them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import Problem, invalid_request, problem_response, repeatable_query_parameters
from shared.text import has_control_characters

DEFAULT_MAX_JSON_BYTES = 1024 * 1024
_CONTROL_MESSAGE = "must not contain control characters"
_CONTROL_MESSAGE_VI = "Không được chứa ký tự điều khiển (NUL, ký tự không in được)"
_REPEATED_MESSAGE = "must be given once"
_REPEATED_MESSAGE_VI = "Chỉ được gửi một lần"
_MAX_REPORTED = 20


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# Files travel under these and keep the limits of the routes that take them (documents, the
# result verifier); every other body, JSON or not, is held to the JSON cap, so a body sent
# under a wrong type is refused before anything reads it whole.
_UPLOAD_TYPES = ("multipart/form-data", "application/pdf", "application/octet-stream")


def _is_upload(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _UPLOAD_TYPES or media.startswith("image/")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


# A decoded JSON string can hold a control character only if the text carried it raw (a byte in
# this class: tab, line feed and carriage return are left out because raw they can only be
# whitespace between tokens, and the guard allows them inside strings anyway) or escaped, which
# takes a backslash. UTF-8 sequences of other characters use bytes >= 0x80 only, and DEL (0x7f)
# is refused like the C0 controls, so it is in the class too.
_MAY_DECODE_TO_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\\]")


def may_hold_control_characters(body: bytes) -> bool:
    """False only when no value decoded from ``body`` can hold a control character, so the
    guard need not parse and walk it (the usual case: most bodies carry no escape at all)."""
    return _MAY_DECODE_TO_CONTROL.search(body) is not None


def _control_fields(value: Any, path: str, found: list[str]) -> None:
    """Where a JSON document holds control characters, as ``body.a.0.b`` paths (keys too)."""
    if len(found) >= _MAX_REPORTED:
        return
    if isinstance(value, str):
        if has_control_characters(value):
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if not has_control_characters(key) else f"{path}.<key>"
            if has_control_characters(key):
                found.append(child)
            _control_fields(item, child, found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _control_fields(item, f"{path}.{i}", found)


def _control_errors(fields: list[str]) -> list[dict[str, str]]:
    return [_error(f, _CONTROL_MESSAGE, _CONTROL_MESSAGE_VI) for f in fields]


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "payload-too-large",
        "Payload too large",
        "Dữ liệu quá lớn",
        detail=f"A JSON body may hold at most {limit} bytes",
        detail_vi=f"Thân yêu cầu JSON không được quá {limit} byte",
    )


def _query_problems(scope: Scope) -> list[dict[str, str]]:
    """Control characters in any name or value, and a single-valued parameter given twice
    (FastAPI would silently keep the last one, so ``?assignee=a&assignee=b`` reads as b)."""
    raw = scope.get("query_string", b"").decode("latin-1")
    if not raw:
        return []
    pairs = parse_qsl(raw, keep_blank_values=True, errors="replace")
    errors = []
    seen: set[str] = set()
    repeated: set[str] = set()
    for name, value in pairs:
        if has_control_characters(name) or has_control_characters(value):
            label = name if not has_control_characters(name) else "<name>"
            errors.append(_error(f"query.{label}", _CONTROL_MESSAGE, _CONTROL_MESSAGE_VI))
        elif name in seen:
            repeated.add(name)
        seen.add(name)
    if repeated:
        lists = repeatable_query_parameters(
            scope.get("app"), scope.get("path", ""), scope["method"]
        )
        for name in sorted(repeated - lists) if lists is not None else ():
            errors.append(_error(f"query.{name}", _REPEATED_MESSAGE, _REPEATED_MESSAGE_VI))
    return errors[:_MAX_REPORTED]


def _error(field: str, message: str, message_vi: str) -> dict[str, str]:
    return {"field": field, "message": message, "message_vi": message_vi}


class RequestGuardMiddleware:
    """Pure ASGI: looks at the path, the query and a JSON body, then hands the request on with
    its body replayed unchanged."""

    def __init__(self, app: ASGIApp, max_json_bytes: int = DEFAULT_MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The raw path too: Starlette has decoded %00 into the path already, but a route
        # parameter decoded again by a client library must not slip through either.
        path = scope.get("path", "")
        errors = (
            _control_errors(["path"])
            if has_control_characters(path) or has_control_characters(unquote(path))
            else []
        )
        errors += _query_problems(scope)
        if errors:
            await self._answer(invalid_request(errors), scope, receive, send)
            return
        content_type = _header(scope, b"content-type") or ""
        if _is_upload(content_type) or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_json_bytes:
            await self._answer(too_large(self.max_json_bytes), scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_json_bytes:
                await self._answer(too_large(self.max_json_bytes), scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        found: list[str] = []
        if _is_json(content_type) and may_hold_control_characters(body):
            try:
                document = orjson.loads(body) if body else None
            except orjson.JSONDecodeError:
                document = None  # FastAPI answers malformed JSON with its own 422
            _control_fields(document, "body", found)
        if found:
            await self._answer(invalid_request(_control_errors(found)), scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _answer(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(problem, Request(scope))
        await response(scope, receive, send)
