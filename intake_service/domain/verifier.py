"""The second factor of the public lookup and the QR rating: the last four digits of the
applicant's ID number (CCCD or tax code) or of their phone number, printed nowhere on the slip."""

from __future__ import annotations

import hmac
import re

VERIFIER_PATTERN = r"^\d{4}$"
# Compared against when a value is missing, so an unknown dossier costs the same work as a known
# one; no four-digit verifier can equal it.
_NEVER = "----"


def last_four_digits(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return digits[-4:] if len(digits) >= 4 else None


def verifier_matches(given: str, id_number: str | None, phone: str | None) -> bool:
    """Constant time in what is compared: both candidates are always checked, byte by byte."""
    well_formed = re.fullmatch(VERIFIER_PATTERN, given) is not None
    by_id = hmac.compare_digest(given.encode(), (last_four_digits(id_number) or _NEVER).encode())
    by_phone = hmac.compare_digest(given.encode(), (last_four_digits(phone) or _NEVER).encode())
    return well_formed & (by_id | by_phone)
