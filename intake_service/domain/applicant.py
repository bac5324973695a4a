"""Who may apply: a citizen by 12-digit personal ID (CCCD) or an organisation by tax code."""

from __future__ import annotations

import re

_PERSONAL_ID = re.compile(r"^\d{12}$")
_TAX_CODE = re.compile(r"^(\d{10})(-\d{3})?$")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def is_valid_personal_id(value: str) -> bool:
    return bool(_PERSONAL_ID.match(value))


def is_valid_tax_code(value: str) -> bool:
    """Mã số thuế: 10 digits (a branch adds ``-NNN``); the 10th is a weighted check digit."""
    match = _TAX_CODE.match(value)
    if not match:
        return False
    digits = [int(c) for c in match.group(1)]
    check = 10 - sum(w * d for w, d in zip(_TAX_WEIGHTS, digits, strict=False)) % 11
    return check == digits[9]
