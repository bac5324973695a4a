"""Fee of a procedure for a channel: some procedures charge less when submitted online."""

from __future__ import annotations

from typing import Any


def fee_amount(fees: list[dict[str, Any]], channel: str) -> int:
    total = 0
    for fee in fees:
        amount = fee.get("amount_vnd")
        if channel == "online" and fee.get("online_amount_vnd") is not None:
            amount = fee["online_amount_vnd"]
        total += int(amount or 0)
    return total
