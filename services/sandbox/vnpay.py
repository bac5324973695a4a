"""A VNPay 2.1.0 gateway: the pay page, the IPN, querydr/refund and a daily statement.

It is strict where VNPay is (signatures, formats, GMT+7 dates), so a merchant that works here
fails at the real gateway only for reasons the sandbox cannot know.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import quote_plus, urlsplit

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from services.sandbox import pages
from services.sandbox.clock import now_vn, parse_vnp_time, vn_day, vnp_time
from services.sandbox.delivery import SEND_FAILURES, Attempt, Background, deliver, stamp
from services.sandbox.settings import SandboxSettings
from services.sandbox.signing import (
    hmac_sha512,
    json_checksum,
    pipe_checksum,
    pipe_text,
    same_digest,
    vnp_hash_data,
    vnp_verify,
)

log = logging.getLogger("sandbox.vnpay")

VERSION = "2.1.0"

# The merchant API's checksummed fields, in the order they are joined (payment.md §1.6).
QUERYDR_REQUEST = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
QUERYDR_RESPONSE = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_REQUEST = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
REFUND_RESPONSE = QUERYDR_RESPONSE[:-2]
STATEMENT_REQUEST = ("vnp_RequestId", "vnp_TmnCode", "vnp_Date", "vnp_CreateDate")

# Transaction statuses (payment.md §1.5).
PAID, NOT_COMPLETED, FAILED, REFUNDING = "00", "01", "02", "05"
PAYMENT, FULL_REFUND, PARTIAL_REFUND = "01", "02", "03"

_REQUEST_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_TXN_REF = re.compile(r"[A-Za-z0-9_-]{1,100}")


class Knobs(BaseModel):
    """Defaults for every payment, the customer's included; a control-API payment may override."""

    honour_expiry: bool = True
    ipn_delay_ms: int = Field(0, ge=0, le=60_000)
    ipn_duplicates: int = Field(1, ge=1, le=50)
    ipn_drop: bool = False
    ipn_tamper: bool = False


@dataclass(frozen=True)
class IpnPlan:
    drop: bool
    copies: int
    tamper: bool
    delay_ms: int
    retries: int


@dataclass
class Refund:
    request_id: str
    transaction_no: str
    transaction_type: str
    amount: int  # ×100, as on the wire
    refund_date: str
    create_by: str
    transaction_status: str = REFUNDING


@dataclass
class Order:
    """A payment as the gateway knows it, from the pay page on."""

    tmn_code: str
    txn_ref: str
    amount: int  # ×100, as ordered
    order_info: str
    create_date: str
    expire_date: str
    return_url: str
    ip_addr: str
    order_type: str
    locale: str
    presented_at: str
    status: Literal["presented", "paid", "cancelled", "expired"] = "presented"
    response_code: str | None = None
    transaction_status: str = NOT_COMPLETED
    transaction_no: str = "0"
    # What the gateway says was paid; a control-API override makes it differ from the order.
    paid_amount: int | None = None
    # What the daily statement lists; a control-API override makes it disagree with the IPN.
    statement_amount: int | None = None
    pay_date: str | None = None
    bank_code: str | None = None
    bank_tran_no: str | None = None
    card_type: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    ipn_dropped: int = 0

    @property
    def reported_amount(self) -> int:
        return self.amount if self.paid_amount is None else self.paid_amount

    @property
    def refundable(self) -> int:
        return self.reported_amount - sum(r.amount for r in self.refunds)

    def result_fields(self) -> dict[str, str]:
        """What the IPN and the return URL carry, before signing. Empty fields are left out,
        as they are out of the hash: a cancelled payment has no bank transaction."""
        fields = {
            "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(self.reported_amount),
            "vnp_BankCode": self.bank_code or "",
            "vnp_BankTranNo": self.bank_tran_no or "",
            "vnp_CardType": self.card_type or "",
            "vnp_OrderInfo": self.order_info,
            "vnp_PayDate": self.pay_date or "",
            "vnp_ResponseCode": self.response_code or "",
            "vnp_TransactionNo": self.transaction_no,
            "vnp_TransactionStatus": self.transaction_status,
            "vnp_TxnRef": self.txn_ref,
        }
        return {k: v for k, v in fields.items() if v}

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "refundable": self.refundable}


class PayPageError(Exception):
    def __init__(self, code: str, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or []


class AlreadySettled(Exception):
    pass


def signed_fields(fields: Mapping[str, str], secret: str) -> dict[str, str]:
    """The fields in hash order, ``vnp_SecureHash`` last, ready to become a query string."""
    ordered = {k: fields[k] for k in sorted(fields) if fields[k]}
    return {**ordered, "vnp_SecureHash": hmac_sha512(secret, vnp_hash_data(ordered))}


def query_string(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={quote_plus(v)}" for k, v in params.items())


def _tampered(digest: str) -> str:
    # One hex digit changed: still well formed, never valid.
    return digest[:-1] + ("0" if digest[-1] != "0" else "1")


def _http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class Gateway:
    def __init__(
        self, settings: SandboxSettings, client: httpx.AsyncClient, background: Background
    ) -> None:
        self.settings = settings
        self.terminals = dict(settings.vnpay_terminals)
        self.client = client
        self.background = background
        self.reset()

    def reset(self) -> None:
        self.knobs = Knobs()
        self.orders: dict[tuple[str, str], Order] = {}
        self.ipns: list[Attempt] = []
        self.hold = False
        self.held: list[tuple[Order, dict[str, str], IpnPlan]] = []
        # (tmn_code, GMT+7 day, request id): VNPay wants a request id unique within a day.
        self.request_ids: set[tuple[str, dt.date, str]] = set()
        self.transaction_nos: set[str] = set()
        self.injected: dict[tuple[str, dt.date], list[dict[str, str]]] = {}

    # -- the pay page --------------------------------------------------------------------------

    def present(self, params: Mapping[str, str]) -> Order:
        """Check a pay URL as VNPay does and record its order; the same order shown again
        (same terminal and TxnRef) keeps what was first presented."""
        tmn = params.get("vnp_TmnCode", "")
        secret = self.terminals.get(tmn)
        if secret is None or not vnp_verify(params, secret):
            raise PayPageError("70", "Sai chữ ký (checksum không hợp lệ).")
        problems = self._pay_url_problems(params)
        if problems:
            raise PayPageError("03", "Dữ liệu gửi sang không đúng định dạng.", problems)
        key = (tmn, params["vnp_TxnRef"])
        if key not in self.orders:
            self.orders[key] = Order(
                tmn_code=tmn,
                txn_ref=params["vnp_TxnRef"],
                amount=int(params["vnp_Amount"]),
                order_info=params["vnp_OrderInfo"],
                create_date=params["vnp_CreateDate"],
                expire_date=params["vnp_ExpireDate"],
                return_url=params["vnp_ReturnUrl"],
                ip_addr=params["vnp_IpAddr"],
                order_type=params.get("vnp_OrderType", ""),
                locale=params.get("vnp_Locale", ""),
                presented_at=stamp(),
            )
        return self.orders[key]

    @staticmethod
    def _pay_url_problems(p: Mapping[str, str]) -> list[str]:
        problems = []

        def need(name: str, ok: bool, rule: str) -> None:
            if not ok:
                problems.append(f"{name}: {rule}")

        get = p.get
        need("vnp_Version", get("vnp_Version") == VERSION, f"phải là {VERSION}")
        need("vnp_Command", get("vnp_Command") == "pay", "phải là pay")
        need("vnp_CurrCode", get("vnp_CurrCode") == "VND", "chỉ hỗ trợ VND")
        amount = get("vnp_Amount", "")
        need(
            "vnp_Amount",
            amount.isdigit() and len(amount) <= 12 and int(amount) > 0 and int(amount) % 100 == 0,
            "số nguyên dương, bằng số tiền VND nhân 100",
        )
        need("vnp_TxnRef", bool(_TXN_REF.fullmatch(get("vnp_TxnRef", ""))), "1–100 ký tự chữ, số")
        info = get("vnp_OrderInfo", "")
        need(
            "vnp_OrderInfo",
            0 < len(info) <= 255 and info.isascii() and info.isprintable(),
            "tiếng Việt không dấu, không ký tự đặc biệt",
        )
        need("vnp_ReturnUrl", _http_url(get("vnp_ReturnUrl", "")), "địa chỉ http(s) đầy đủ")
        need("vnp_IpAddr", bool(get("vnp_IpAddr")), "bắt buộc")
        if get("vnp_Locale"):
            need("vnp_Locale", get("vnp_Locale") in ("vn", "en"), "vn hoặc en")
        dates = {}
        for name in ("vnp_CreateDate", "vnp_ExpireDate"):
            try:
                dates[name] = parse_vnp_time(get(name, ""))
            except ValueError:
                problems.append(f"{name}: yyyyMMddHHmmss theo giờ GMT+7")
        if len(dates) == 2:
            need(
                "vnp_ExpireDate",
                dates["vnp_ExpireDate"] > dates["vnp_CreateDate"],
                "phải sau vnp_CreateDate",
            )
        return problems

    # -- paying ----------------------------------------------------------------------------------

    def settle(
        self, order: Order, action: Literal["pay", "cancel"], amount_vnd: int | None
    ) -> None:
        """The customer's decision, as the gateway records it."""
        if order.status != "presented":
            raise AlreadySettled(order.status)
        now = now_vn()
        order.pay_date = vnp_time(now)
        order.bank_code, order.card_type = "NCB", "ATM"
        if amount_vnd is not None:
            order.paid_amount = amount_vnd * 100
        if action == "cancel":
            order.status, order.response_code, order.transaction_status = "cancelled", "24", FAILED
        elif self.knobs.honour_expiry and now > parse_vnp_time(order.expire_date):
            order.status, order.response_code, order.transaction_status = "expired", "11", FAILED
        else:
            order.status, order.response_code, order.transaction_status = "paid", "00", PAID
            order.transaction_no = self._new_transaction_no()
            order.bank_tran_no = f"VNP{order.transaction_no}"

    def _new_transaction_no(self) -> str:
        while True:
            number = str(10_000_000 + secrets.randbelow(90_000_000))
            if number not in self.transaction_nos:
                self.transaction_nos.add(number)
                return number

    def return_location(self, order: Order) -> str:
        query = query_string(signed_fields(order.result_fields(), self.terminals[order.tmn_code]))
        separator = "&" if urlsplit(order.return_url).query else "?"
        return f"{order.return_url}{separator}{query}"

    # -- the IPN ---------------------------------------------------------------------------------

    def ipn_plan(
        self,
        drop: bool | None = None,
        duplicates: int | None = None,
        tamper: bool | None = None,
        delay_ms: int | None = None,
        retries: int | None = None,
    ) -> IpnPlan:
        k = self.knobs
        return IpnPlan(
            drop=k.ipn_drop if drop is None else drop,
            copies=k.ipn_duplicates if duplicates is None else duplicates,
            tamper=k.ipn_tamper if tamper is None else tamper,
            delay_ms=k.ipn_delay_ms if delay_ms is None else delay_ms,
            retries=self.settings.ipn_retries if retries is None else retries,
        )

    async def dispatch_ipn(self, order: Order, plan: IpnPlan) -> list[Attempt] | None:
        """Send the order's IPN as the plan says; the first attempts, or None while IPNs are held."""
        if plan.drop:
            # The lost IPN: the merchant must find the result by querydr.
            order.ipn_dropped += 1
            return []
        params = signed_fields(order.result_fields(), self.terminals[order.tmn_code])
        if plan.tamper:
            params["vnp_SecureHash"] = _tampered(params["vnp_SecureHash"])
        if self.hold:
            self.held.append((order, params, plan))
            return None
        return await self._deliver(order, params, plan)

    async def release(self) -> list[Attempt]:
        """Send the held IPNs, newest first: the merchant must not depend on their order."""
        held, self.held, self.hold = self.held, [], False
        sent: list[Attempt] = []
        for order, params, plan in reversed(held):
            sent += await self._deliver(order, params, plan)
        return sent

    async def _deliver(self, order: Order, params: dict[str, str], plan: IpnPlan) -> list[Attempt]:
        url = self.settings.ipn_url or ""
        location = f"{url}{'&' if '?' in url else '?'}{query_string(params)}" if url else ""

        async def send(copy: int, attempt: int) -> Attempt:
            record = Attempt(
                key=order.txn_ref,
                copy=copy,
                attempt=attempt,
                sent_at=stamp(),
                request={"method": "GET", "url": location, "params": params},
                extra={"tmn_code": order.tmn_code, "tampered": plan.tamper},
            )
            self.ipns.append(record)
            if not url:
                record.error = "SANDBOX_IPN_URL is not set"
                return record
            try:
                response = await self.client.get(location, timeout=self.settings.ipn_timeout_s)
            except SEND_FAILURES as exc:
                record.error = f"{type(exc).__name__}: {exc}"
                return record
            record.status_code = response.status_code
            try:
                record.answer = response.json()
            except ValueError:
                record.answer = response.text[:500]
            rsp = record.answer.get("RspCode") if isinstance(record.answer, dict) else None
            # VNPay stops only on 00 (confirmed) or 02 (already confirmed).
            record.final = response.status_code == 200 and rsp in ("00", "02")
            return record

        return await deliver(
            send,
            copies=plan.copies,
            retries=plan.retries,
            interval_s=self.settings.ipn_retry_interval_s,
            delay_ms=plan.delay_ms,
            background=self.background,
        )

    # -- querydr and refund ----------------------------------------------------------------------

    def transaction_api(self, body: Any) -> dict[str, str]:
        if not isinstance(body, dict):
            return self._answer(QUERYDR_RESPONSE, None, "03", "Invalid request format", {})
        command = pipe_text(body.get("vnp_Command"))
        if command not in ("querydr", "refund"):
            return self._answer(QUERYDR_RESPONSE, None, "03", "Unknown vnp_Command", {})
        shape = QUERYDR_RESPONSE if command == "querydr" else REFUND_RESPONSE
        tmn = pipe_text(body.get("vnp_TmnCode"))
        base = {"vnp_Command": command, "vnp_TmnCode": tmn}
        secret = self.terminals.get(tmn)
        if secret is None:
            return self._answer(shape, None, "02", "Merchant is not valid", base)
        hashed = QUERYDR_REQUEST if command == "querydr" else REFUND_REQUEST
        expected = pipe_checksum(secret, (body.get(f) for f in hashed))
        if not same_digest(expected, pipe_text(body.get("vnp_SecureHash"))):
            return self._answer(shape, secret, "97", "Invalid Checksum", base)
        request = {f: pipe_text(body.get(f)) for f in hashed}
        base["vnp_TxnRef"] = request["vnp_TxnRef"]
        problems = self._api_problems(request, command)
        if problems:
            return self._answer(shape, secret, "03", "; ".join(problems), base)
        if not self._first_use(tmn, request["vnp_RequestId"]):
            return self._answer(shape, secret, "94", "Duplicate request", base)
        order = self.orders.get((tmn, request["vnp_TxnRef"]))
        # TxnRef is unique only within a day, so VNPay finds the payment by its date too.
        if order is None or order.create_date != request["vnp_TransactionDate"]:
            return self._answer(shape, secret, "91", "Transaction not found", base)
        if command == "querydr":
            return self._answer(shape, secret, "00", "QueryDR Success", self._querydr(order))
        return self._refund(order, request, secret)

    def _first_use(self, tmn: str, request_id: str) -> bool:
        key = (tmn, now_vn().date(), request_id)
        if key in self.request_ids:
            return False
        self.request_ids.add(key)
        return True

    @staticmethod
    def _api_problems(r: Mapping[str, str], command: str) -> list[str]:
        problems = []
        if not _REQUEST_ID.fullmatch(r["vnp_RequestId"]):
            problems.append("vnp_RequestId: 1-32 alphanumeric characters")
        if r["vnp_Version"] != VERSION:
            problems.append(f"vnp_Version: must be {VERSION}")
        if not r["vnp_TxnRef"]:
            problems.append("vnp_TxnRef: required")
        for name in ("vnp_TransactionDate", "vnp_CreateDate"):
            try:
                parse_vnp_time(r[name])
            except ValueError:
                problems.append(f"{name}: yyyyMMddHHmmss in GMT+7")
        if not r["vnp_IpAddr"]:
            problems.append("vnp_IpAddr: required")
        if not r["vnp_OrderInfo"]:
            problems.append("vnp_OrderInfo: required")
        if command == "refund":
            if r["vnp_TransactionType"] not in (FULL_REFUND, PARTIAL_REFUND):
                problems.append("vnp_TransactionType: 02 (full) or 03 (partial)")
            if not (r["vnp_Amount"].isdigit() and int(r["vnp_Amount"]) > 0):
                problems.append("vnp_Amount: a positive amount x100")
            if r["vnp_TransactionNo"] and not r["vnp_TransactionNo"].isdigit():
                problems.append("vnp_TransactionNo: digits, 0 if unknown")
            if not r["vnp_CreateBy"]:
                problems.append("vnp_CreateBy: required")
        return problems

    @staticmethod
    def _querydr(order: Order) -> dict[str, str]:
        return {
            "vnp_Command": "querydr",
            "vnp_TmnCode": order.tmn_code,
            "vnp_TxnRef": order.txn_ref,
            "vnp_Amount": str(order.reported_amount),
            "vnp_BankCode": order.bank_code or "",
            "vnp_PayDate": order.pay_date or "",
            "vnp_TransactionNo": order.transaction_no,
            # The payment itself: a refund is a transaction of its own (see the statement).
            "vnp_TransactionType": PAYMENT,
            "vnp_TransactionStatus": order.transaction_status,
            "vnp_OrderInfo": order.order_info,
        }

    def _refund(self, order: Order, r: Mapping[str, str], secret: str) -> dict[str, str]:
        base = {"vnp_Command": "refund", "vnp_TmnCode": order.tmn_code, "vnp_TxnRef": order.txn_ref}
        if order.status != "paid":
            return self._answer(
                REFUND_RESPONSE, secret, "95", "Transaction is not successful at VNPAY", base
            )
        if r["vnp_TransactionNo"] not in ("", "0", order.transaction_no):
            return self._answer(REFUND_RESPONSE, secret, "91", "Transaction not found", base)
        amount, kind, left = int(r["vnp_Amount"]), r["vnp_TransactionType"], order.refundable
        if amount > left:
            return self._answer(
                REFUND_RESPONSE,
                secret,
                "99",
                f"Refund amount {amount} exceeds the refundable amount {left}",
                base,
            )
        if kind == FULL_REFUND and amount != left:
            return self._answer(
                REFUND_RESPONSE,
                secret,
                "99",
                f"A full refund (02) must be the whole refundable amount {left}",
                base,
            )
        refund = Refund(
            request_id=r["vnp_RequestId"],
            transaction_no=self._new_transaction_no(),
            transaction_type=kind,
            amount=amount,
            refund_date=vnp_time(now_vn()),
            create_by=r["vnp_CreateBy"],
        )
        # Refunds complete at once here, so none is ever "in flight" (no 94 for that reason).
        order.refunds.append(refund)
        return self._answer(
            REFUND_RESPONSE,
            secret,
            "00",
            "Refund success",
            {
                **base,
                "vnp_Amount": str(amount),
                "vnp_BankCode": order.bank_code or "",
                "vnp_PayDate": refund.refund_date,
                "vnp_TransactionNo": refund.transaction_no,
                "vnp_TransactionType": kind,
                "vnp_TransactionStatus": refund.transaction_status,
                "vnp_OrderInfo": order.order_info,
            },
        )

    @staticmethod
    def _answer(
        shape: tuple[str, ...],
        secret: str | None,
        code: str,
        message: str,
        values: Mapping[str, str],
    ) -> dict[str, str]:
        document = {name: values.get(name, "") for name in shape}
        document.update(vnp_ResponseId=uuid.uuid4().hex, vnp_ResponseCode=code, vnp_Message=message)
        # Without the terminal's secret (unknown TmnCode) there is nothing to sign with.
        document["vnp_SecureHash"] = (
            pipe_checksum(secret, (document[name] for name in shape)) if secret else ""
        )
        return document

    # -- the daily statement ---------------------------------------------------------------------

    def statement_api(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return self._statement_error(None, "03", "Invalid request format", {})
        request = {f: pipe_text(body.get(f)) for f in STATEMENT_REQUEST}
        tmn = request["vnp_TmnCode"]
        secret = self.terminals.get(tmn)
        if secret is None:
            return self._statement_error(None, "02", "Merchant is not valid", request)
        expected = pipe_checksum(secret, request.values())
        if not same_digest(expected, pipe_text(body.get("vnp_SecureHash"))):
            return self._statement_error(secret, "97", "Invalid Checksum", request)
        problems = []
        if not _REQUEST_ID.fullmatch(request["vnp_RequestId"]):
            problems.append("vnp_RequestId: 1-32 alphanumeric characters")
        try:
            day = dt.datetime.strptime(request["vnp_Date"], "%Y%m%d").date()
        except ValueError:
            problems.append("vnp_Date: yyyyMMdd (GMT+7 day)")
        try:
            parse_vnp_time(request["vnp_CreateDate"])
        except ValueError:
            problems.append("vnp_CreateDate: yyyyMMddHHmmss in GMT+7")
        if problems:
            return self._statement_error(secret, "03", "; ".join(problems), request)
        if not self._first_use(tmn, request["vnp_RequestId"]):
            return self._statement_error(secret, "94", "Duplicate request", request)
        document: dict[str, Any] = {
            "vnp_ResponseId": uuid.uuid4().hex,
            "vnp_ResponseCode": "00",
            "vnp_Message": "Statement success",
            "vnp_TmnCode": tmn,
            "vnp_Date": request["vnp_Date"],
            "vnp_Transactions": self.statement_lines(tmn, day),
        }
        document["vnp_SecureHash"] = json_checksum(secret, document)
        return document

    def statement_lines(self, tmn: str, day: dt.date) -> list[dict[str, str]]:
        lines: list[dict[str, str]] = []
        for order in self.orders.values():
            if order.tmn_code != tmn:
                continue
            if order.status == "paid" and order.pay_date and _on(order.pay_date, day):
                lines.append(
                    {
                        "vnp_TxnRef": order.txn_ref,
                        "vnp_TransactionNo": order.transaction_no,
                        "vnp_Amount": str(
                            order.reported_amount
                            if order.statement_amount is None
                            else order.statement_amount
                        ),
                        "vnp_PayDate": order.pay_date,
                        "vnp_TransactionType": PAYMENT,
                        "vnp_TransactionStatus": PAID,
                    }
                )
            lines += [
                {
                    "vnp_TxnRef": order.txn_ref,
                    "vnp_TransactionNo": refund.transaction_no,
                    "vnp_Amount": str(refund.amount),
                    "vnp_PayDate": refund.refund_date,
                    "vnp_TransactionType": refund.transaction_type,
                    "vnp_TransactionStatus": refund.transaction_status,
                }
                for refund in order.refunds
                if _on(refund.refund_date, day)
            ]
        lines.sort(key=lambda line: line["vnp_PayDate"])
        return lines + self.injected.get((tmn, day), [])

    def _statement_error(
        self, secret: str | None, code: str, message: str, request: Mapping[str, str]
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "vnp_ResponseId": uuid.uuid4().hex,
            "vnp_ResponseCode": code,
            "vnp_Message": message,
            "vnp_TmnCode": request.get("vnp_TmnCode", ""),
            "vnp_Date": request.get("vnp_Date", ""),
            "vnp_Transactions": [],
        }
        document["vnp_SecureHash"] = json_checksum(secret, document) if secret else ""
        return document


def _on(vnp_date: str, day: dt.date) -> bool:
    return vn_day(parse_vnp_time(vnp_date)) == day


# -- HTTP ----------------------------------------------------------------------------------------

router = APIRouter()

# Documented by hand: the body is parsed by hand too, so a malformed one gets VNPay's code 03
# rather than FastAPI's 422.
_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


@router.get(
    "/paymentv2/vpcpay.html",
    response_class=HTMLResponse,
    tags=["vnpay"],
    summary="The pay page (the merchant's redirect lands here)",
    description="Kiểm tra chữ ký và tham số của URL thanh toán, ghi nhận đơn hàng, hiển thị trang thanh toán.",
    responses={400: {"description": "Sai chữ ký (70) hoặc sai định dạng (03)"}},
)
async def pay_page(request: Request) -> HTMLResponse:
    gateway = _gateway(request)
    try:
        order = gateway.present(dict(request.query_params))
    except PayPageError as exc:
        log.info("pay URL refused: %s %s %s", exc.code, exc.message, exc.details)
        return HTMLResponse(pages.error_page(exc.code, exc.message, exc.details), status_code=400)
    return HTMLResponse(
        pages.pay_page(
            tmn_code=order.tmn_code,
            txn_ref=order.txn_ref,
            amount_x100=order.amount,
            order_info=order.order_info,
            expire_date=order.expire_date,
            status=order.status,
        )
    )


@router.post(
    "/paymentv2/confirm",
    tags=["vnpay"],
    summary="The customer pays or cancels",
    description="Khách hàng bấm Thanh toán hoặc Hủy: ghi kết quả, gửi IPN (chạy nền), chuyển về vnp_ReturnUrl.",
    response_class=RedirectResponse,
    status_code=302,
    responses={404: {"description": "Không có giao dịch"}},
)
async def confirm(
    request: Request,
    tmn_code: Annotated[str, Form()],
    txn_ref: Annotated[str, Form()],
    action: Annotated[Literal["pay", "cancel"], Form()],
) -> Response:
    gateway = _gateway(request)
    order = gateway.orders.get((tmn_code, txn_ref))
    if order is None:
        return HTMLResponse(pages.error_page("91", "Không tìm thấy giao dịch."), status_code=404)
    if order.status == "presented":
        gateway.settle(order, action, None)
        gateway.background.spawn(gateway.dispatch_ipn(order, gateway.ipn_plan()))
    # A second click (or a reload) lands on the same result; it is not paid twice.
    return RedirectResponse(gateway.return_location(order), status_code=302)


@router.post(
    "/merchant_webapi/api/transaction",
    tags=["vnpay"],
    summary="querydr and refund",
    openapi_extra=_JSON_BODY,
    description="Truy vấn kết quả (querydr) và hoàn tiền (refund), checksum HMAC-SHA512 các trường nối bằng dấu |.",
)
async def transaction_api(request: Request) -> dict[str, str]:
    return _gateway(request).transaction_api(await _json(request))


@router.post(
    "/merchant_webapi/api/statement",
    tags=["vnpay"],
    summary="The daily statement (đối soát)",
    openapi_extra=_JSON_BODY,
    description="Bảng kê giao dịch thành công và hoàn tiền trong một ngày (giờ GMT+7). Định dạng do hệ thống tự định nghĩa, VNPay không công bố.",
)
async def statement_api(request: Request) -> dict[str, Any]:
    return _gateway(request).statement_api(await _json(request))


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None
