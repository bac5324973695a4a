"""Which dossiers owe a fee."""

from enum import StrEnum


class FeeRequestStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    cancelled = "cancelled"


def needs_fee_request(amount_vnd: int) -> bool:
    return amount_vnd > 0
