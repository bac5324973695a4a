"""Fee of a procedure for a channel: some procedures charge less when submitted online."""

from __future__ import annotations

from typing import Any

from shared.events.dossiers import FeeLine


def fee_amount(fees: list[dict[str, Any]], channel: str) -> int:
    total = 0
    for fee in fees:
        amount = fee.get("amount_vnd")
        if channel == "online" and fee.get("online_amount_vnd") is not None:
            amount = fee["online_amount_vnd"]
        total += int(amount or 0)
    return total


def fee_lines(fees: list[dict[str, Any]], channel: str, procedure_code: str) -> list[FeeLine]:
    """The lines behind :func:`fee_amount`, each named and classed as phí or lệ phí (the law
    treats them differently: a lệ phí goes to the budget whole), zero lines left out."""
    lines = []
    for number, fee in enumerate(fees, start=1):
        amount = fee.get("amount_vnd")
        if channel == "online" and fee.get("online_amount_vnd") is not None:
            amount = fee["online_amount_vnd"]
        if not amount:
            continue
        name = str(fee.get("name") or "Lệ phí")
        kind = "charge" if name.lower().startswith("lệ phí") else "fee"
        lines.append(
            FeeLine(
                code=f"{procedure_code}-{number:02d}", kind=kind, name=name, amount_vnd=int(amount)
            )
        )
    return lines
