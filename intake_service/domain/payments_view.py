"""What a dossier owes and what was paid, folded from payment's events. Pure: no SQL, no I/O.

The fold's state is the JSON kept on ``intake.dossiers.payments``::

    {"requests": {<request_id>: {purpose, agency_code, amount_vnd, paid_vnd, refunded_vnd,
                                 status, requested_at, paid_at, method, online, receipt, lines,
                                 closed_status, closed_at, by_payment}},
     "payments": {<payment_id>: <request_id>},
     "receipts_pending": {<payment_id>: receipt}}

Payment's events reach intake twice sometimes, and not always in the order they happened (a
receipt may overtake its payment, a payment its request). So an event only ever *adds facts*
(the request's terms, one payment's outcome, a refund total, a void, a receipt, a closing), each
kept where a repeat overwrites it with the same value or a ``max`` settles two versions; the
figures a person reads (paid, refunded, status, paid at, receipt) are then recomputed from those
facts. Folding is therefore idempotent and its result does not depend on the order of events.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.events import (
    PaymentRefunded,
    PaymentRequestClosed,
    PaymentRequested,
    PaymentSucceeded,
    PaymentVoided,
    ReceiptIssued,
)

PaymentViewEvent = (
    PaymentRequested
    | PaymentRequestClosed
    | PaymentSucceeded
    | PaymentRefunded
    | PaymentVoided
    | ReceiptIssued
)
VIEW_EVENTS: tuple[type[PaymentViewEvent], ...] = (
    PaymentRequested,
    PaymentRequestClosed,
    PaymentSucceeded,
    PaymentRefunded,
    PaymentVoided,
    ReceiptIssued,
)

PURPOSE_LABELS_VI = {
    "fee": "Phí, lệ phí của thủ tục",
    "financial_obligation": "Nghĩa vụ tài chính (thuế, tiền sử dụng đất, lệ phí trước bạ)",
}
REQUEST_STATUS_LABELS_VI = {
    "open": "Chưa nộp đủ",
    "paid": "Đã nộp đủ",
    "cancelled": "Đã hủy yêu cầu thu",
}
# A receipt's number is printed with seven digits after its symbol (ký hiệu).
RECEIPT_NUMBER_DIGITS = 7


def _iso(at: dt.datetime) -> str:
    # One offset for every stored instant, so equal instants are equal strings in the JSON.
    return at.astimezone(dt.UTC).isoformat()


def _instant(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _empty_request() -> dict[str, Any]:
    return {
        "purpose": None,
        "agency_code": None,
        "amount_vnd": None,
        "lines": [],
        "requested_at": None,
        "closed_status": None,
        "closed_at": None,
        "by_payment": {},
    }


def _empty_payment() -> dict[str, Any]:
    return {
        "succeeded": False,
        "amount_vnd": 0,
        "paid_at": None,
        "method": None,
        "online": None,
        "refunded_vnd": 0,
        "voided": False,
        "receipt": None,
    }


def _normalised(state: Mapping[str, Any] | None) -> dict[str, Any]:
    # A copy, so the caller's dict (the ORM's loaded value) is never changed in place: the
    # handler compares old and new to decide whether there is anything to write.
    new = copy.deepcopy(dict(state or {}))
    new.setdefault("requests", {})
    new.setdefault("payments", {})
    new.setdefault("receipts_pending", {})
    return new


def _request(state: dict[str, Any], request_id: str, purpose: str | None) -> dict[str, Any]:
    request = state["requests"].setdefault(request_id, _empty_request())
    if purpose is not None:
        request["purpose"] = purpose
    return request


def _payment(
    state: dict[str, Any], request_id: str, payment_id: str, purpose: str | None
) -> dict[str, Any]:
    state["payments"][payment_id] = request_id
    request = _request(state, request_id, purpose)
    return request["by_payment"].setdefault(payment_id, _empty_payment())


def _receipt_key(receipt: Mapping[str, Any]) -> tuple[dt.datetime | None, int, str]:
    return (_instant(receipt["issued_at"]), receipt["number"], receipt["receipt_id"])


def _later_receipt(held: Mapping[str, Any] | None, arrived: Mapping[str, Any]) -> Mapping[str, Any]:
    # A payment whose receipt was reissued keeps the newer one, whichever arrived last.
    if held is None or _receipt_key(arrived) > _receipt_key(held):
        return arrived
    return held


def _attach_pending_receipts(state: dict[str, Any]) -> None:
    pending: dict[str, Any] = state["receipts_pending"]
    for payment_id in [p for p in pending if p in state["payments"]]:
        request = state["requests"][state["payments"][payment_id]]
        payment = request["by_payment"].setdefault(payment_id, _empty_payment())
        payment["receipt"] = dict(_later_receipt(payment["receipt"], pending.pop(payment_id)))


def _derive(request: dict[str, Any]) -> None:
    """Recompute what a person reads from the facts kept for the request."""
    by_payment: dict[str, dict[str, Any]] = request["by_payment"]
    counted = sorted(
        ((pid, p) for pid, p in by_payment.items() if p["succeeded"] and not p["voided"]),
        # Latest payment last; the payment id breaks a tie so every order picks the same one.
        key=lambda item: (
            _instant(item[1]["paid_at"]) or dt.datetime.min.replace(tzinfo=dt.UTC),
            item[0],
        ),
    )
    request["paid_vnd"] = sum(p["amount_vnd"] for _, p in counted)
    request["refunded_vnd"] = sum(p["refunded_vnd"] for p in by_payment.values())
    request["status"] = request["closed_status"] or "open"
    latest = counted[-1][1] if counted else None
    request["paid_at"] = latest["paid_at"] if latest else None
    request["method"] = latest["method"] if latest else None
    request["online"] = latest["online"] if latest else None
    with_receipt = [p["receipt"] for _, p in counted if p["receipt"] is not None]
    last_receipt = with_receipt[-1] if with_receipt else None
    request["receipt"] = (
        {k: last_receipt[k] for k in ("form_code", "symbol", "number")} if last_receipt else None
    )


def fold(state: Mapping[str, Any] | None, event: PaymentViewEvent) -> dict[str, Any]:
    """The state after ``event``; a new dict, ``state`` is left as it was."""
    new = _normalised(state)
    if isinstance(event, PaymentRequested):
        request = _request(new, str(event.request_id), event.purpose)
        # A request's terms are fixed when payment raises it, so a repeat writes the same values.
        request["agency_code"] = event.agency_code
        request["amount_vnd"] = event.amount_vnd
        request["lines"] = event.model_dump(mode="json")["lines"]
        request["requested_at"] = _iso(event.requested_at)
    elif isinstance(event, PaymentRequestClosed):
        request = _request(new, str(event.request_id), event.purpose)
        held = (_instant(request["closed_at"]), request["closed_status"])
        # Closed is final; should payment ever close a request twice, the later closing wins.
        if request["closed_at"] is None or (event.closed_at, event.status) > held:
            request["closed_status"] = event.status
            request["closed_at"] = _iso(event.closed_at)
    elif isinstance(event, PaymentSucceeded):
        request_id = event.request_id or event.fee_request_id
        if request_id is not None:  # a payment tied to no request has no row to show it on
            payment = _payment(new, str(request_id), str(event.payment_id), event.purpose)
            payment["succeeded"] = True
            payment["amount_vnd"] = event.amount_vnd
            payment["paid_at"] = _iso(event.paid_at)
            payment["method"] = event.method
            payment["online"] = event.online
    elif isinstance(event, PaymentRefunded):
        payment = _payment(new, str(event.request_id), str(event.payment_id), event.purpose)
        # The event carries the running total, so the largest one seen is the refund so far.
        payment["refunded_vnd"] = max(payment["refunded_vnd"], event.refunded_total_vnd)
    elif isinstance(event, PaymentVoided):
        payment = _payment(new, str(event.request_id), str(event.payment_id), event.purpose)
        payment["voided"] = True
    elif isinstance(event, ReceiptIssued):
        receipt = {
            "receipt_id": str(event.receipt_id),
            "form_code": event.form_code,
            "symbol": event.symbol,
            "number": event.number,
            "issued_at": _iso(event.issued_at),
        }
        pending = new["receipts_pending"]
        pending[str(event.payment_id)] = dict(
            _later_receipt(pending.get(str(event.payment_id)), receipt)
        )
    else:  # pragma: no cover - the handler registers only the types above
        raise TypeError(f"not a payment view event: {type(event).__name__}")
    # Every receipt waits in ``receipts_pending`` until its payment is known, then moves to it:
    # one path for a receipt that came first and one that came last.
    _attach_pending_receipts(new)
    for request in new["requests"].values():
        _derive(request)
    return new


def receipt_number_text(receipt: Mapping[str, Any] | None) -> str | None:
    """The number as printed on the receipt: symbol, a space, seven digits ("BI-26T 0000042")."""
    if receipt is None:
        return None
    return f"{receipt['symbol']} {int(receipt['number']):0{RECEIPT_NUMBER_DIGITS}d}"


@dataclass(frozen=True)
class RequestFigures:
    request_id: str
    purpose: str  # every event that opens a request names its purpose
    agency_code: str | None
    amount_vnd: int | None  # None until the request itself has arrived
    paid_vnd: int
    refunded_vnd: int
    owed_vnd: int
    status: str
    requested_at: dt.datetime | None
    paid_at: dt.datetime | None
    method: str | None
    online: bool | None
    receipt_number: str | None

    @property
    def purpose_label_vi(self) -> str:
        return PURPOSE_LABELS_VI.get(self.purpose, self.purpose)

    @property
    def status_label_vi(self) -> str:
        return REQUEST_STATUS_LABELS_VI.get(self.status, self.status)


@dataclass(frozen=True)
class DossierPayments:
    owed_vnd: int
    paid_vnd: int
    refunded_vnd: int
    requests: tuple[RequestFigures, ...]


def _owed(request: Mapping[str, Any]) -> int:
    # Money refunded is money no longer paid; an overpayment owes nothing rather than less.
    if request["status"] != "open" or request["amount_vnd"] is None:
        return 0
    return max(0, request["amount_vnd"] - (request["paid_vnd"] - request["refunded_vnd"]))


def figures(state: Mapping[str, Any] | None) -> DossierPayments:
    """The totals and one line per request, oldest request first."""
    # Derived again rather than trusted, so a state written by an older fold reads right too.
    folded = _normalised(state)
    _attach_pending_receipts(folded)
    rows = []
    for request_id, request in folded["requests"].items():
        _derive(request)
        rows.append(
            RequestFigures(
                request_id=request_id,
                purpose=request["purpose"],
                agency_code=request["agency_code"],
                amount_vnd=request["amount_vnd"],
                paid_vnd=request["paid_vnd"],
                refunded_vnd=request["refunded_vnd"],
                owed_vnd=_owed(request),
                status=request["status"],
                requested_at=_instant(request["requested_at"]),
                paid_at=_instant(request["paid_at"]),
                method=request["method"],
                online=request["online"],
                receipt_number=receipt_number_text(request["receipt"]),
            )
        )
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r.requested_at or far_future, r.request_id))
    return DossierPayments(
        owed_vnd=sum(r.owed_vnd for r in rows),
        paid_vnd=sum(r.paid_vnd for r in rows),
        refunded_vnd=sum(r.refunded_vnd for r in rows),
        requests=tuple(rows),
    )
