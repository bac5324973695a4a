"""Who collects a dossier's money (đơn vị thu) and into which account.

A procedure's fee is collected by the one-stop desk that received the dossier (the province's
public service centre for dossiers received at the province); a financial obligation (land use
levy, registration fee, personal income tax on a transfer) by the province's tax authority.
Agency codes follow intake's reference data: ``motcua-<ward>``, ``ttphcc-<province>``,
``thue-<province>``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from vietnam_provinces import Ward

from payment_service.settings import Payee, PaymentSettings


def collecting_agency(purpose: str, unit_path: str) -> str:
    codes = unit_path.split(".")
    province, ward = codes[0], codes[-1]
    if purpose == "financial_obligation":
        return f"thue-{province}"
    return f"ttphcc-{province}" if len(codes) == 1 else f"motcua-{ward}"


@dataclass(frozen=True)
class ResolvedPayee:
    agency_code: str
    name: str
    bank_bin: str
    account_no: str
    account_name: str
    tmn_code: str
    hash_secret: str
    receipt_form_code: str
    receipt_symbol: str


def payee(settings: PaymentSettings, agency_code: str) -> ResolvedPayee:
    """The agency's own settings where the province registered them, the defaults elsewhere."""
    own = settings.payees.get(agency_code) or Payee()
    secret = own.vnpay_hash_secret or settings.vnpay_hash_secret
    return ResolvedPayee(
        agency_code=agency_code,
        name=own.name or agency_code,
        bank_bin=own.bank_bin or settings.default_bank_bin,
        account_no=own.account_no or settings.default_account_no,
        account_name=own.account_name or settings.default_account_name,
        tmn_code=own.vnpay_tmn_code or settings.vnpay_tmn_code,
        hash_secret=secret.get_secret_value(),
        receipt_form_code=own.receipt_form_code or settings.default_receipt_form_code,
        receipt_symbol=own.receipt_symbol or settings.default_receipt_symbol,
    )


def secret_for_terminal(settings: PaymentSettings, tmn_code: str) -> str | None:
    """The hash secret of a terminal an IPN names; None for a terminal that is not ours."""
    for own in settings.payees.values():
        if own.vnpay_tmn_code == tmn_code:
            # The same fallback as ``payee``: a terminal without its own secret signs with the
            # default one.
            secret = own.vnpay_hash_secret or settings.vnpay_hash_secret
            return secret.get_secret_value() or None
    if tmn_code and tmn_code == settings.vnpay_tmn_code:
        return settings.vnpay_hash_secret.get_secret_value() or None
    return None


@functools.cache
def _ward_provinces() -> dict[str, str]:
    return {f"{ward.code.value:05d}": f"{ward.province_code.value:02d}" for ward in Ward.iter_all()}


def agency_unit_path(agency_code: str) -> str | None:
    """The unit an agency answers to, from the national list of units: a province's bodies to
    the province, a ward's desk to its ward. None for a unit the list does not know (one ops
    added later), which the caller looks up in what payment has seen."""
    unit = agency_code.partition("-")[2]
    if len(unit) == 2 and unit.isdigit():
        return unit
    province = _ward_provinces().get(unit)
    return f"{province}.{unit}" if province else None
