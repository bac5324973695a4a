"""Payment's settings: the gateway, the bank, who collects for whom, and the mop-up rhythm.

Everything that differs between the sandbox and a real gateway is a URL or a secret here; the
code never knows which one it talks to.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Payee(BaseModel):
    """A collecting agency (đơn vị thu): where its money goes and how its receipts are marked."""

    name: str | None = None
    bank_bin: str | None = Field(None, pattern=r"^\d{6}$")
    account_no: str | None = Field(None, max_length=19)
    account_name: str | None = None
    vnpay_tmn_code: str | None = None
    vnpay_hash_secret: SecretStr | None = None
    receipt_form_code: str | None = None
    receipt_symbol: str | None = None


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENT_", extra="ignore", frozen=True)

    service_name: str = "payment"

    public_base_url: str = Field(
        "http://127.0.0.1:8003", description="where citizens reach this service (receipt QR)"
    )

    vnpay_pay_url: str = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"
    vnpay_api_url: str = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"
    vnpay_statement_url: str = "https://sandbox.vnpayment.vn/merchant_webapi/api/statement"
    vnpay_return_url: str = "http://127.0.0.1:8003/v1/gateways/vnpay/return"
    vnpay_tmn_code: str = ""
    vnpay_hash_secret: SecretStr = SecretStr("")
    vnpay_timeout_s: float = 10.0
    # vnp_IpAddr of server-to-server calls (querydr, refund): this server's address.
    server_ip: str = "127.0.0.1"

    bank_notice_secret: SecretStr = SecretStr("")
    bank_notice_max_skew_s: int = 300
    bank_statement_url: str = ""
    # The account money goes to when an agency has none of its own (the treasury's).
    default_bank_bin: str = "970415"
    default_account_no: str = "113366668888"
    default_account_name: str = "KHO BAC NHA NUOC"
    default_receipt_form_code: str = "01BLP0-001"
    default_receipt_symbol: str = "BI-26T"
    # JSON object {agency_code: Payee}; the per-agency terminal, secret and account.
    payees_file: Path | None = None

    payment_ttl_s: int = 15 * 60
    # A transfer QR stays payable for three days: citizens pay from their bank app later.
    transfer_ttl_s: int = 3 * 24 * 3600
    # The mop-up job asks the gateway about payments pending longer than this, then backs off.
    mopup_after_s: float = 300.0
    mopup_interval_s: float = 5.0
    mopup_backoff_max_s: float = 3600.0
    mopup_batch_size: int = 100

    @cached_property
    def payees(self) -> dict[str, Payee]:
        if self.payees_file is None:
            return {}
        raw = json.loads(Path(self.payees_file).read_text())
        return {code: Payee.model_validate(value) for code, value in raw.items()}
