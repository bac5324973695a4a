"""The VNPay adapter's server-to-server half: querydr, refund and the daily statement over
HTTPS JSON, each request and answer checksummed and kept. The URLs are settings; whether they
lead to VNPay or to a sandbox is nobody's business here."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from payment_service.domain import vnpay
from payment_service.settings import PaymentSettings


class GatewayUnavailable(Exception):
    """The gateway did not answer, or answered something unsigned or unreadable."""


@dataclass(frozen=True)
class Terminal:
    tmn_code: str
    hash_secret: str


def request_id() -> str:
    return secrets.token_hex(16)


class VnpayClient:
    def __init__(self, api_url: str, statement_url: str, server_ip: str, timeout_s: float) -> None:
        self._api_url = api_url
        self._statement_url = statement_url
        self._server_ip = server_ip
        self._timeout = timeout_s

    @classmethod
    def from_settings(cls, settings: PaymentSettings) -> VnpayClient:
        return cls(
            settings.vnpay_api_url,
            settings.vnpay_statement_url,
            settings.server_ip,
            settings.vnpay_timeout_s,
        )

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(url, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayUnavailable(repr(exc)) from exc
        if not isinstance(answer, dict):
            raise GatewayUnavailable("answer is not a JSON object")
        return answer

    async def querydr(
        self, terminal: Terminal, txn_ref: str, created_at: dt.datetime, now: dt.datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request sent and the verified answer (GatewayUnavailable when its checksum is
        wrong: an unsigned answer must never settle a payment)."""
        message: dict[str, Any] = {
            "vnp_RequestId": request_id(),
            "vnp_Version": vnpay.VERSION,
            "vnp_Command": "querydr",
            "vnp_TmnCode": terminal.tmn_code,
            "vnp_TxnRef": txn_ref,
            "vnp_TransactionDate": vnpay.gmt7(created_at),
            "vnp_CreateDate": vnpay.gmt7(now),
            "vnp_IpAddr": self._server_ip,
            "vnp_OrderInfo": f"Truy van giao dich {txn_ref}",
        }
        message["vnp_SecureHash"] = vnpay.pipe_checksum(
            terminal.hash_secret, message, vnpay.QUERYDR_REQUEST_FIELDS
        )
        answer = await self._post(self._api_url, message)
        if answer.get("vnp_ResponseCode") == "00" and not vnpay.verify_pipe(
            terminal.hash_secret, answer, vnpay.QUERYDR_RESPONSE_FIELDS
        ):
            raise GatewayUnavailable("querydr answer has a bad checksum")
        return message, answer

    async def refund(
        self,
        terminal: Terminal,
        *,
        request_id: str,
        txn_ref: str,
        amount_vnd: int,
        full: bool,
        transaction_no: str | None,
        transaction_date: dt.datetime,
        created_by: str,
        now: dt.datetime,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        message: dict[str, Any] = {
            "vnp_RequestId": request_id,
            "vnp_Version": vnpay.VERSION,
            "vnp_Command": "refund",
            "vnp_TmnCode": terminal.tmn_code,
            "vnp_TransactionType": "02" if full else "03",
            "vnp_TxnRef": txn_ref,
            "vnp_Amount": str(amount_vnd * 100),
            "vnp_TransactionNo": transaction_no or "0",
            "vnp_TransactionDate": vnpay.gmt7(transaction_date),
            "vnp_CreateBy": vnpay.fold_ascii(created_by, 64) or "system",
            "vnp_CreateDate": vnpay.gmt7(now),
            "vnp_IpAddr": self._server_ip,
            "vnp_OrderInfo": f"Hoan tien giao dich {txn_ref}",
        }
        message["vnp_SecureHash"] = vnpay.pipe_checksum(
            terminal.hash_secret, message, vnpay.REFUND_REQUEST_FIELDS
        )
        answer = await self._post(self._api_url, message)
        # An unsigned or wrongly signed answer is no answer: it must neither free the reserved
        # amount nor mark money as given back.
        if not vnpay.verify_pipe(terminal.hash_secret, answer, vnpay.REFUND_RESPONSE_FIELDS):
            raise GatewayUnavailable("refund answer is not signed by the gateway")
        if answer.get("vnp_ResponseCode") == "00" and (
            answer.get("vnp_TxnRef") != txn_ref
            or str(answer.get("vnp_Amount")) != str(amount_vnd * 100)
        ):
            raise GatewayUnavailable("refund answer is about another transaction or amount")
        return message, answer

    async def statement(
        self, terminal: Terminal, day: dt.date, now: dt.datetime
    ) -> list[dict[str, Any]]:
        """The gateway's lines for one Vietnam-time day, checksum verified."""
        message: dict[str, Any] = {
            "vnp_RequestId": request_id(),
            "vnp_TmnCode": terminal.tmn_code,
            "vnp_Date": day.strftime("%Y%m%d"),
            "vnp_CreateDate": vnpay.gmt7(now),
        }
        message["vnp_SecureHash"] = vnpay.sign(
            terminal.hash_secret,
            "|".join(
                str(message[f])
                for f in ("vnp_RequestId", "vnp_TmnCode", "vnp_Date", "vnp_CreateDate")
            ),
        )
        answer = await self._post(self._statement_url, message)
        given = str(answer.pop("vnp_SecureHash", ""))
        canonical = json.dumps(answer, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if not secrets.compare_digest(
            given.lower().encode(), vnpay.sign(terminal.hash_secret, canonical).encode()
        ):
            raise GatewayUnavailable("statement has a bad checksum")
        if answer.get("vnp_ResponseCode") != "00":
            raise GatewayUnavailable(f"statement refused: {answer.get('vnp_ResponseCode')}")
        lines = answer.get("vnp_Transactions") or []
        if not isinstance(lines, list):
            raise GatewayUnavailable("statement lines are not a list")
        return lines
