"""Sandbox configuration, from ``SANDBOX_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore", frozen=True)

    http_port: int = 8009
    # {tmn_code: hash_secret}; each collecting agency may have a terminal of its own.
    vnpay_terminals: dict[str, str] = {}
    # Registered with the gateway once, as at VNPay; a pay request never carries it.
    ipn_url: str | None = None
    # Re-sends after the first attempt, while the answer is not RspCode 00/02.
    ipn_retries: int = 10
    ipn_retry_interval_s: float = 1.0
    ipn_timeout_s: float = 5.0
    bank_notice_url: str | None = None
    bank_secret: str = ""
    bank_notice_retries: int = 10
    # Unset: the bank waits as long between attempts as the gateway does.
    bank_notice_retry_interval_s: float | None = None
    bank_notice_timeout_s: float = 5.0
    log_level: str = "INFO"

    @property
    def notice_interval_s(self) -> float:
        if self.bank_notice_retry_interval_s is None:
            return self.ipn_retry_interval_s
        return self.bank_notice_retry_interval_s
