"""Free text as the API accepts it: no control characters. PostgreSQL refuses a NUL in text,
and the other C0 controls only ever arrive in hostile or broken input."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def _no_controls(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value


CleanText = Annotated[str, AfterValidator(_no_controls)]
