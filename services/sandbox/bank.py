"""A bank that receives VietQR transfers: a ledger of credits, signed credit notices, statements.

A QR code carries no callback, so the merchant learns of a transfer only from the bank's notice
or, if that never comes, from the statement at reconciliation (payment.md §2.3).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from services.sandbox.clock import VN_TZ, now_vn, parse_day, vn_day
from services.sandbox.delivery import SEND_FAILURES, Attempt, Background, deliver, stamp
from services.sandbox.settings import SandboxSettings
from services.sandbox.signing import bank_signature

log = logging.getLogger("sandbox.bank")


class CreditCommand(BaseModel):
    """A transfer arriving on an account, as if a customer had scanned the QR and paid."""

    bank_bin: str = Field(pattern=r"^\d{6}$", examples=["970415"])
    account_no: str = Field(min_length=1, max_length=19, examples=["113366668888"])
    amount_vnd: int = Field(gt=0, examples=[50000])
    description: str = Field(
        max_length=500, description="the transfer memo", examples=["HS000123 LE PHI"]
    )
    credited_at: dt.datetime | None = Field(
        None, description="ISO 8601; without an offset it is Vietnam time; default now"
    )
    transaction_id: str | None = Field(None, min_length=1, max_length=64)
    deliver: bool = Field(True, description="send the credit notice")
    duplicates: int = Field(1, ge=1, le=50, description="identical notices sent at once")
    delay_ms: int = Field(0, ge=0, le=60_000)
    retries: int | None = Field(None, ge=0, description="default SANDBOX_BANK_NOTICE_RETRIES")


class StatementEntry(BaseModel):
    transaction_id: str = Field(min_length=1)
    bank_bin: str = ""
    account_no: str | None = Field(None, description="default: the statement's account")
    amount_vnd: int
    description: str = ""
    credited_at: dt.datetime | None = Field(None, description="default: noon of that day")


class StatementLines(BaseModel):
    account_no: str = Field(min_length=1)
    date: str = Field(description="YYYY-MM-DD, a Vietnam-time day")
    entries: list[StatementEntry]


@dataclass
class Credit:
    transaction_id: str
    bank_bin: str
    account_no: str
    amount_vnd: int
    description: str
    credited_at: str  # ISO 8601 with the +07:00 offset

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def _encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


class Bank:
    def __init__(
        self, settings: SandboxSettings, client: httpx.AsyncClient, background: Background
    ) -> None:
        self.settings = settings
        self.client = client
        self.background = background
        self.reset()

    def reset(self) -> None:
        self.credits: dict[str, Credit] = {}
        self.notices: list[Attempt] = []
        self.injected: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}

    def signature_headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "X-Bank-Timestamp": timestamp,
            "X-Bank-Signature": bank_signature(self.settings.bank_secret, timestamp, body),
        }

    def record(self, command: CreditCommand) -> Credit:
        transaction_id = command.transaction_id or self._new_transaction_id()
        if transaction_id in self.credits:
            raise HTTPException(409, f"transaction {transaction_id} is already on the ledger")
        credit = Credit(
            transaction_id=transaction_id,
            bank_bin=command.bank_bin,
            account_no=command.account_no,
            amount_vnd=command.amount_vnd,
            description=command.description,
            credited_at=_iso(command.credited_at or now_vn()),
        )
        self.credits[transaction_id] = credit
        return credit

    def _new_transaction_id(self) -> str:
        while True:
            candidate = f"FT{secrets.randbelow(10**14):014d}"
            if candidate not in self.credits:
                return candidate

    async def notify(
        self, credit: Credit, *, copies: int, delay_ms: int, retries: int | None
    ) -> list[Attempt]:
        url = self.settings.bank_notice_url
        # One body for every copy and re-send; each attempt is signed at its own time.
        body = _encode(credit.as_dict())

        async def send(copy: int, attempt: int) -> Attempt:
            headers = {"Content-Type": "application/json", **self.signature_headers(body)}
            record = Attempt(
                key=credit.transaction_id,
                copy=copy,
                attempt=attempt,
                sent_at=stamp(),
                request={
                    "method": "POST",
                    "url": url,
                    "headers": headers,
                    "body": body.decode(),
                },
            )
            self.notices.append(record)
            if not url:
                record.error = "SANDBOX_BANK_NOTICE_URL is not set"
                return record
            try:
                response = await self.client.post(
                    url, content=body, headers=headers, timeout=self.settings.bank_notice_timeout_s
                )
            except SEND_FAILURES as exc:
                record.error = f"{type(exc).__name__}: {exc}"
                return record
            record.status_code = response.status_code
            try:
                record.answer = response.json()
            except ValueError:
                record.answer = response.text[:500]
            record.final = response.is_success
            return record

        return await deliver(
            send,
            copies=copies,
            retries=self.settings.bank_notice_retries if retries is None else retries,
            interval_s=self.settings.notice_interval_s,
            delay_ms=delay_ms,
            background=self.background,
        )

    def inject(self, lines: StatementLines) -> list[dict[str, Any]]:
        day = parse_day(lines.date)
        noon = dt.datetime.combine(day, dt.time(12), VN_TZ)
        added = [
            {
                "transaction_id": e.transaction_id,
                "bank_bin": e.bank_bin,
                "account_no": e.account_no or lines.account_no,
                "amount_vnd": e.amount_vnd,
                "description": e.description,
                "credited_at": _iso(e.credited_at or noon),
            }
            for e in lines.entries
        ]
        self.injected.setdefault((lines.account_no, day), []).extend(added)
        return added

    def statement(self, account_no: str, day: dt.date) -> dict[str, Any]:
        entries = [
            c.as_dict()
            for c in self.credits.values()
            if c.account_no == account_no
            and vn_day(dt.datetime.fromisoformat(c.credited_at)) == day
        ]
        entries.sort(key=lambda e: e["credited_at"])
        return {
            "account_no": account_no,
            "date": day.isoformat(),
            "entries": entries + self.injected.get((account_no, day), []),
        }


router = APIRouter(prefix="/bank", tags=["bank"])


def _bank(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


@router.post(
    "/credits",
    status_code=201,
    summary="A transfer is credited to an account",
    description=(
        "Ghi có một khoản chuyển khoản (VietQR) vào tài khoản và, nếu deliver, gửi thông báo có "
        "chữ ký X-Bank-Signature = HMAC-SHA256(bí mật, timestamp + '.' + body) đến đơn vị thụ hưởng; "
        "gửi lại khi không nhận được 2xx. Trả kết quả lượt gửi đầu tiên."
    ),
)
async def credit(command: CreditCommand, request: Request) -> dict[str, Any]:
    bank = _bank(request)
    entry = bank.record(command)
    deliveries: list[Attempt] = []
    if command.deliver:
        deliveries = await bank.notify(
            entry, copies=command.duplicates, delay_ms=command.delay_ms, retries=command.retries
        )
    return {"credit": entry.as_dict(), "deliveries": [d.as_dict() for d in deliveries]}


@router.get(
    "/statements",
    summary="An account's statement for one day",
    description=(
        "Sao kê các khoản ghi có của một ngày (giờ Việt Nam), kèm chữ ký X-Bank-Timestamp / "
        "X-Bank-Signature trên nguyên văn body."
    ),
)
async def statement(
    request: Request,
    account_no: Annotated[str, Query(min_length=1)],
    date: Annotated[str, Query(description="YYYY-MM-DD, a Vietnam-time day")],
) -> Response:
    bank = _bank(request)
    try:
        day = parse_day(date)
    except ValueError as exc:
        raise HTTPException(422, f"date must be YYYY-MM-DD: {exc}") from exc
    body = _encode(bank.statement(account_no, day))
    return Response(body, media_type="application/json", headers=bank.signature_headers(body))
