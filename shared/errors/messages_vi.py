"""Vietnamese beside pydantic's English: one message per kind of validation error."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError

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
