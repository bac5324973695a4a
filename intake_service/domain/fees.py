"""Fee of a procedure for a channel: some procedures charge less when submitted online."""

from __future__ import annotations

from collections.abc import Sequence

from intake_service.domain.procedure_rules import FeeRule, ProcedureRules
from shared.events.dossiers import FeeLine
from shared.vocabulary import Channel


def fee_amount(fees: ProcedureRules | Sequence[FeeRule], channel: Channel | str) -> int:
    """What the dossier pays in all (the sum of :func:`fee_lines`)."""
    rules = fees.fees if isinstance(fees, ProcedureRules) else fees
    return sum(fee.amount_for(channel) for fee in rules)


def fee_lines(
    fees: ProcedureRules | Sequence[FeeRule], channel: Channel | str, procedure_code: str
) -> list[FeeLine]:
    """The lines behind :func:`fee_amount`, each named and classed as phí or lệ phí (the law
    treats them differently: a lệ phí goes to the budget whole), zero lines left out."""
    rules = fees.fees if isinstance(fees, ProcedureRules) else fees
    lines = []
    for number, fee in enumerate(rules, start=1):
        amount = fee.amount_for(channel)
        if not amount:
            continue
        name = fee.name or "Lệ phí"
        kind = "charge" if name.lower().startswith("lệ phí") else "fee"
        lines.append(
            FeeLine(code=f"{procedure_code}-{number:02d}", kind=kind, name=name, amount_vnd=amount)
        )
    return lines
