"""Folding payment's events into a dossier's payment view, without a database."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from intake_service.domain.payments_view import PaymentViewEvent, figures, fold
from shared.calendar import VN_TZ
from shared.events import (
    PaymentRefunded,
    PaymentRequestClosed,
    PaymentRequested,
    PaymentSucceeded,
    PaymentVoided,
    ReceiptIssued,
)

DOSSIER = {
    "dossier_id": uuid.UUID("5b0c7a52-3f0e-4a8e-9a51-0c6d1f2e9a10"),
    "dossier_code": "00070-260115-0007",
    "unit_path": "01.00070",
}
FEE, LAND_TAX, STAMP_DUTY, CANCELLED = (uuid.UUID(int=n) for n in (1, 2, 3, 4))
VNPAY, CASH_MISTAKE, VIETQR = (uuid.UUID(int=n) for n in (11, 12, 13))


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, 15, hour, minute, tzinfo=VN_TZ)


def requested(request_id: uuid.UUID, purpose: str, amount: int, when: dt.datetime) -> Any:
    return PaymentRequested(
        **DOSSIER,
        request_id=request_id,
        purpose=purpose,  # type: ignore[arg-type]
        agency_code="UBND-00070" if purpose == "fee" else "CCT-HOANKIEM",
        amount_vnd=amount,
        lines=[{"code": "1.004222-01", "kind": "charge", "name": "Lệ phí", "amount_vnd": amount}],
        requested_at=when,
    )


def succeeded(
    payment_id: uuid.UUID, request_id: uuid.UUID, purpose: str, amount: int, method: str, when
) -> PaymentSucceeded:
    return PaymentSucceeded(
        **DOSSIER,
        payment_id=payment_id,
        request_id=request_id,
        purpose=purpose,  # type: ignore[arg-type]
        amount_vnd=amount,
        online=method != "cash",
        method=method,
        paid_at=when,
    )


def closed(request_id: uuid.UUID, purpose: str, status: str, when) -> PaymentRequestClosed:
    return PaymentRequestClosed(
        **DOSSIER,
        request_id=request_id,
        purpose=purpose,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        closed_at=when,
    )


def receipt(payment_id: uuid.UUID, number: int, amount: int, when) -> ReceiptIssued:
    return ReceiptIssued(
        **DOSSIER,
        receipt_id=uuid.uuid5(payment_id, str(number)),
        payment_id=payment_id,
        form_code="01BLP0-001",
        symbol="BI-26T",
        number=number,
        amount_vnd=amount,
        issued_at=when,
    )


def refunded(total: int, when) -> PaymentRefunded:
    return PaymentRefunded(
        **DOSSIER,
        payment_id=VIETQR,
        request_id=LAND_TAX,
        purpose="financial_obligation",
        method="vietqr",
        status="partially_refunded",
        amount_vnd=1_250_000,
        at=when,
        refund_id=uuid.uuid5(VIETQR, str(total)),
        refund_amount_vnd=total // 2 if total > 100_000 else total,
        refunded_total_vnd=total,
    )


# One dossier's whole payment story: the fee paid by VNPay (after a cash payment recorded by
# mistake and voided), the land tax paid by VietQR, closed, then partly refunded, with its
# receipt reissued; a stamp duty still owed; a request cancelled.
EVENTS: list[PaymentViewEvent] = [
    requested(FEE, "fee", 20_000, at(8)),
    succeeded(CASH_MISTAKE, FEE, "fee", 20_000, "cash", at(8, 30)),
    PaymentVoided(
        **DOSSIER,
        payment_id=CASH_MISTAKE,
        request_id=FEE,
        purpose="fee",
        method="cash",
        status="voided",
        amount_vnd=20_000,
        at=at(8, 35),
        voided_by="cb.ketoan.00070",
        reason="Ghi nhầm hồ sơ",
    ),
    succeeded(VNPAY, FEE, "fee", 20_000, "vnpay", at(8, 40)),
    receipt(VNPAY, 42, 20_000, at(8, 41)),
    closed(FEE, "fee", "paid", at(8, 41)),
    requested(LAND_TAX, "financial_obligation", 1_250_000, at(9)),
    succeeded(VIETQR, LAND_TAX, "financial_obligation", 1_250_000, "vietqr", at(10)),
    receipt(VIETQR, 43, 1_250_000, at(10, 1)),
    closed(LAND_TAX, "financial_obligation", "paid", at(10, 1)),
    refunded(100_000, at(11)),
    refunded(250_000, at(11, 30)),
    receipt(VIETQR, 44, 1_250_000, at(11, 45)),
    requested(STAMP_DUTY, "financial_obligation", 500_000, at(12)),
    requested(CANCELLED, "financial_obligation", 300_000, at(12, 5)),
    closed(CANCELLED, "financial_obligation", "cancelled", at(13)),
]


def fold_all(events: Iterable[PaymentViewEvent]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for event in events:
        state = fold(state, event)
    return state


IN_ORDER = fold_all(EVENTS)


def test_the_view_shows_what_is_owed_paid_and_refunded() -> None:
    view = figures(IN_ORDER)
    assert (view.owed_vnd, view.paid_vnd, view.refunded_vnd) == (500_000, 1_270_000, 250_000)
    fee, land_tax, stamp_duty, cancelled = view.requests
    assert fee.request_id == str(FEE) and fee.purpose_label_vi == "Phí, lệ phí của thủ tục"
    # The voided cash payment is not money received.
    assert (fee.amount_vnd, fee.paid_vnd, fee.owed_vnd, fee.status) == (20_000, 20_000, 0, "paid")
    assert (fee.method, fee.online, fee.paid_at) == ("vnpay", True, at(8, 40))
    assert fee.receipt_number == "BI-26T 0000042"
    # The reissued receipt replaces the first one.
    assert land_tax.receipt_number == "BI-26T 0000044"
    assert (land_tax.paid_vnd, land_tax.refunded_vnd, land_tax.owed_vnd) == (1_250_000, 250_000, 0)
    assert (stamp_duty.status, stamp_duty.owed_vnd, stamp_duty.paid_at) == ("open", 500_000, None)
    assert (cancelled.status, cancelled.owed_vnd) == ("cancelled", 0)
    assert cancelled.status_label_vi == "Đã hủy yêu cầu thu"


def test_the_stored_state_has_the_documented_shape() -> None:
    fee = IN_ORDER["requests"][str(FEE)]
    assert fee["receipt"] == {"form_code": "01BLP0-001", "symbol": "BI-26T", "number": 42}
    assert fee["lines"][0]["amount_vnd"] == 20_000
    assert fee["agency_code"] == "UBND-00070"
    assert IN_ORDER["payments"][str(VIETQR)] == str(LAND_TAX)
    assert IN_ORDER["receipts_pending"] == {}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_order_and_any_repetition_give_the_same_view(data: st.DataObject) -> None:
    repeats = data.draw(st.lists(st.sampled_from(EVENTS), max_size=10))
    delivered = data.draw(st.permutations(EVENTS + repeats))
    state = fold_all(delivered)
    assert state == IN_ORDER
    assert figures(state) == figures(IN_ORDER)


def test_a_receipt_ahead_of_its_payment_waits_then_attaches() -> None:
    early = fold({}, receipt(VNPAY, 42, 20_000, at(8, 41)))
    assert early["requests"] == {} and str(VNPAY) in early["receipts_pending"]
    assert figures(early).requests == ()
    paid = fold(early, succeeded(VNPAY, FEE, "fee", 20_000, "vnpay", at(8, 40)))
    assert paid["receipts_pending"] == {}
    (fee,) = figures(paid).requests
    # The request itself has not arrived: paid, receipt known, the amount not yet.
    assert (fee.amount_vnd, fee.paid_vnd, fee.owed_vnd) == (None, 20_000, 0)
    assert fee.receipt_number == "BI-26T 0000042"


def test_a_payment_counts_once_however_often_it_is_announced() -> None:
    request, payment = EVENTS[0], EVENTS[3]
    once = fold_all([request, payment])
    thrice = fold_all([request, payment, payment, payment])
    assert once == thrice and figures(thrice).paid_vnd == 20_000


def test_folding_leaves_the_given_state_untouched() -> None:
    before = copy.deepcopy(IN_ORDER)
    fold(IN_ORDER, requested(uuid.UUID(int=99), "fee", 10_000, at(14)))
    assert before == IN_ORDER


def test_an_empty_column_reads_as_nothing_owed() -> None:
    view = figures({})
    assert (view.owed_vnd, view.paid_vnd, view.refunded_vnd, view.requests) == (0, 0, 0, ())
