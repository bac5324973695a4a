"""Errors as RFC 9457 problem details, with Vietnamese beside the English, split by job:
:mod:`.model` (the problem and the common ones), :mod:`.handlers` (turning every error into
problem+json), :mod:`.messages_vi` (Vietnamese validation messages), :mod:`.openapi` (what the
published document says). If-Match lives with the other HTTP preconditions in
:mod:`shared.http.preconditions`."""

from shared.errors.handlers import (
    install_problem_handlers,
    problem_response,
    repeatable_query_parameters,
)
from shared.errors.messages_vi import field_errors
from shared.errors.model import (
    PROBLEM_JSON,
    TYPE_BASE,
    FieldErrorModel,
    Problem,
    ProblemModel,
    conflict,
    forbidden,
    internal_error,
    invalid_request,
    invalid_value,
    not_found,
    unauthorized,
    unsupported_media_type,
)
from shared.errors.openapi import (
    BODY_RESPONSES,
    CLEAN_TEXT_PATTERN,
    IF_MATCH_RESPONSES,
    PROBLEM_RESPONSES,
    RATE_LIMITED_RESPONSES,
    problem_responses,
)

__all__ = [
    "BODY_RESPONSES",
    "CLEAN_TEXT_PATTERN",
    "IF_MATCH_RESPONSES",
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "RATE_LIMITED_RESPONSES",
    "TYPE_BASE",
    "FieldErrorModel",
    "Problem",
    "ProblemModel",
    "conflict",
    "field_errors",
    "forbidden",
    "install_problem_handlers",
    "internal_error",
    "invalid_request",
    "invalid_value",
    "not_found",
    "problem_response",
    "problem_responses",
    "repeatable_query_parameters",
    "unauthorized",
    "unsupported_media_type",
]
