"""The other side of a reconciliation: the gateway's or the bank's statement of one day, fetched,
verified and read into :class:`TheirEntry` lines. A statement that cannot be fetched, is not
signed by whom it claims, or holds a line we cannot read is no statement at all: the run stops
with :class:`StatementUnavailable` and stores nothing, since a report built on part of a
statement would call every missing line a discrepancy."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from payment_service.domain import vnpay
from payment_service.domain.reconciliation import EntryKind, TheirEntry
from payment_service.gateways.vnpay_client import GatewayUnavailable, Terminal, VnpayClient

# vnp_TransactionType (payment.md §1.6): 01 payment, 02 full refund, 03 partial refund.
_VNPAY_KINDS: dict[str, EntryKind] = {"01": "payment", "02": "refund", "03": "refund"}
# Lines that moved money: a paid payment (00); a refund the gateway made (00) or is paying
# out (05). A failed line took nothing, so it has nothing to reconcile.
_VNPAY_MOVED: dict[EntryKind, frozenset[str]] = {
    "payment": frozenset({"00"}),
    "refund": frozenset({"00", "05"}),
}


class StatementUnavailable(Exception):
    def __init__(self, source: str, why: str) -> None:
        super().__init__(f"{source}: {why}")
        self.source = source
        self.why = why


def _vnpay_line(line: Any) -> TheirEntry | None:
    if not isinstance(line, Mapping):
        raise ValueError("a line is not an object")
    kind = _VNPAY_KINDS.get(str(line.get("vnp_TransactionType", "")))
    if kind is None:
        raise ValueError(f"unknown vnp_TransactionType {line.get('vnp_TransactionType')!r}")
    if str(line.get("vnp_TransactionStatus", "")) not in _VNPAY_MOVED[kind]:
        return None
    reference = str(line.get("vnp_TxnRef") or "")
    amount = str(line.get("vnp_Amount", ""))
    # vnp_Amount is VND ×100; an amount that is no whole number of đồng is no VND amount.
    if not reference or not amount.isdigit() or int(amount) % 100:
        raise ValueError(f"unreadable line for {reference or 'no TxnRef'}")
    return TheirEntry(
        key=reference,
        kind=kind,
        amount_vnd=int(amount) // 100,
        external_id=str(line.get("vnp_TransactionNo") or "") or None,
        at=vnpay.parse_gmt7(str(line.get("vnp_PayDate", ""))),
    )


async def vnpay_statement(
    client: VnpayClient, terminal: Terminal, day: dt.date, now: dt.datetime
) -> list[TheirEntry]:
    try:
        lines = await client.statement(terminal, day, now)
        entries = [_vnpay_line(line) for line in lines]
    except GatewayUnavailable as exc:
        raise StatementUnavailable("vnpay", str(exc)) from exc
    except ValueError as exc:
        raise StatementUnavailable("vnpay", f"statement line: {exc}") from exc
    return [e for e in entries if e is not None]


def bank_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _bank_line(line: Any) -> TheirEntry:
    if not isinstance(line, Mapping):
        raise ValueError("an entry is not an object")
    transaction_id = str(line.get("transaction_id") or "")
    amount = line.get("amount_vnd")
    if not transaction_id or not isinstance(amount, int) or isinstance(amount, bool):
        raise ValueError(f"unreadable entry {transaction_id or 'without transaction_id'}")
    at = dt.datetime.fromisoformat(str(line.get("credited_at", "")))
    if at.tzinfo is None:  # the bank writes Vietnam time
        at = at.replace(tzinfo=vnpay.VN_TZ)
    return TheirEntry(
        key=transaction_id, kind="payment", amount_vnd=amount, external_id=transaction_id, at=at
    )


async def bank_statement(
    url: str,
    secret: str,
    account_no: str,
    day: dt.date,
    *,
    timeout_s: float,
    max_skew_s: int,
    now: dt.datetime,
) -> list[TheirEntry]:
    """The bank's credits to ``account_no`` on ``day``, their signature checked on the raw body
    exactly as a credit notice's is."""
    if not url or not secret:
        raise StatementUnavailable("bank", "no bank statement URL or secret is configured")
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as http:
            response = await http.get(url, params={"account_no": account_no, "date": str(day)})
    except httpx.HTTPError as exc:
        raise StatementUnavailable("bank", repr(exc)) from exc
    if response.status_code != 200:
        raise StatementUnavailable("bank", f"answered {response.status_code}")
    body = response.content
    timestamp = response.headers.get("X-Bank-Timestamp", "")
    given = response.headers.get("X-Bank-Signature", "").lower()
    if not hmac.compare_digest(given.encode(), bank_signature(secret, timestamp, body).encode()):
        raise StatementUnavailable("bank", "statement has a bad signature")
    # An old signed statement replayed to us would hide the credits since.
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > max_skew_s:
        raise StatementUnavailable("bank", "statement signature is too old or from the future")
    try:
        document = json.loads(body)
        if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
            raise ValueError("no entries list")
        if document.get("account_no") != account_no or document.get("date") != str(day):
            raise ValueError("statement of another account or day")
        return [_bank_line(line) for line in document["entries"]]
    except ValueError as exc:
        raise StatementUnavailable("bank", f"statement: {exc}") from exc
