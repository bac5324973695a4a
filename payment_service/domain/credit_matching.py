"""Which expected payment a bank credit pays.

A VietQR transfer carries no callback: we learn of it from the bank's credit notice or a line of
its statement, as an account, an amount and a free-text memo. The payer's app usually copies the
QR's purpose (62/08, which holds our payment reference) into the memo, but apps upper-case it,
drop its spaces or wrap it in their own text ("CK mc7k3f9q2a", "MBVCB.123.MC7K3F9Q2A.CT tu …"),
and some payers type the memo themselves. So the reference is looked for anywhere in the memo,
compared on letters and digits only; when it is absent, a credit is still taken for a payment
when its amount and date point to exactly one.

Nothing here decides what to do with money that does not fit (refund, ask for the balance);
the outcome says which queue the credit belongs in. An amount mismatch never counts as paid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from payment_service.domain.vietqr import fold_ascii

# How long a payment without an expiry may be matched on amount and date alone. Past it, an
# unreferenced credit of the same amount is more likely someone else's transfer than this one.
FALLBACK_WINDOW: Final = dt.timedelta(days=7)

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def compact(text: str) -> str:
    """``text`` reduced to upper-case ASCII letters and digits, the form references, memos and
    account numbers are compared in: "CK mc7k-3f9q 2a" and "MC7K3F9Q2A" share "MC7K3F9Q2A"."""
    return _NOT_ALNUM.sub("", fold_ascii(text).upper())


def _check_aware(name: str, at: dt.datetime) -> None:
    # Notices come in Vietnam's time and our records in UTC; only aware instants compare.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class Expected:
    """A payment we wait for by bank transfer."""

    payment_id: uuid.UUID
    reference: str  # the short code put in the QR's 62/08, e.g. "MC7K3F9Q2A"
    amount_vnd: int
    account: str  # our beneficiary account the QR names
    created_at: dt.datetime
    expires_at: dt.datetime | None  # None: a static QR, valid until paid
    settled: bool  # already paid by an earlier credit

    def __post_init__(self) -> None:
        # An empty reference would be found in every memo.
        if not compact(self.reference):
            raise ValueError(f"reference {self.reference!r} has no letters or digits")
        if self.amount_vnd <= 0:
            raise ValueError(f"expected amount must be positive, got {self.amount_vnd}")
        _check_aware("created_at", self.created_at)
        if self.expires_at is not None:
            _check_aware("expires_at", self.expires_at)
            if self.expires_at < self.created_at:
                raise ValueError("expires_at is before created_at")

    @property
    def window_end(self) -> dt.datetime:
        """The last instant an unreferenced credit may be taken for this payment."""
        return self.expires_at if self.expires_at is not None else self.created_at + FALLBACK_WINDOW


@dataclass(frozen=True)
class Credit:
    """Money received on one of our accounts, as the bank reports it."""

    bank_txn_id: str  # the bank's own transaction id, unique per credit
    account: str
    amount_vnd: int
    memo: str
    credited_at: dt.datetime

    def __post_init__(self) -> None:
        if not self.bank_txn_id:
            raise ValueError("bank_txn_id is empty")
        if self.amount_vnd <= 0:
            raise ValueError(f"credited amount must be positive, got {self.amount_vnd}")
        _check_aware("credited_at", self.credited_at)


class Outcome(StrEnum):
    matched = "matched"  # pays the payment exactly
    overpaid = "overpaid"  # names the payment, more money than expected
    underpaid = "underpaid"  # names the payment, less money than expected
    wrong_memo = "wrong_memo"  # cannot tell which payment it is for: a person decides
    duplicate = "duplicate"  # already seen, or pays a payment that was already paid


@dataclass(frozen=True)
class Match:
    """What one credit turned out to be.

    ``payment_id`` and ``expected_amount_vnd`` name the payment the credit was taken for, None
    when none was. ``difference_vnd`` is the credited amount minus the expected one, and 0 when
    no payment was named; for a ``duplicate`` of a paid payment the whole credit is surplus,
    whatever the difference says."""

    outcome: Outcome
    payment_id: uuid.UUID | None
    expected_amount_vnd: int | None
    difference_vnd: int


_UNMATCHED: Final = Match(Outcome.wrong_memo, None, None, 0)
_SEEN: Final = Match(Outcome.duplicate, None, None, 0)


def _by_reference(memo: str, candidates: list[Expected]) -> list[Expected]:
    """The candidates the memo names. When one found reference lies inside another found one
    ("MC12" inside "MC123"), only the longer counts: the memo names that one."""
    named = [(compact(c.reference), c) for c in candidates]
    named = [(ref, c) for ref, c in named if ref in memo]
    return [c for ref, c in named if not any(ref != other and ref in other for other, _ in named)]


def _distinct(candidates: Sequence[Expected]) -> list[Expected]:
    # A payment listed twice (two queries, a join) is still one payment.
    seen: dict[uuid.UUID, Expected] = {}
    for candidate in candidates:
        seen.setdefault(candidate.payment_id, candidate)
    return list(seen.values())


def _against(credit: Credit, payment: Expected) -> Match:
    difference = credit.amount_vnd - payment.amount_vnd
    if payment.settled:
        outcome = Outcome.duplicate
    elif difference == 0:
        outcome = Outcome.matched
    elif difference > 0:
        outcome = Outcome.overpaid
    else:
        outcome = Outcome.underpaid
    return Match(outcome, payment.payment_id, payment.amount_vnd, difference)


def match_credit(
    credit: Credit, candidates: Sequence[Expected], seen_txn_ids: Collection[str]
) -> Match:
    """The outcome of one credit against the payments we expect.

    In order: (a) a bank transaction id already seen is a ``duplicate`` (a notice sent twice,
    or a statement line already learnt from a notice). (b) A payment on the credited account
    whose reference the memo contains decides alone: ``duplicate`` if it is already paid, else
    ``matched``, ``overpaid`` or ``underpaid`` by amount; no date limit applies, since a named
    late payment is still this payment. A memo naming two payments cannot be split and is a
    ``wrong_memo``. (c) Without a reference, exactly one unpaid payment on that account with the
    same amount, credited within its window (``created_at`` to ``expires_at``, or
    :data:`FALLBACK_WINDOW` when it has none), is ``matched``; anything else is ``wrong_memo``.
    """
    if credit.bank_txn_id in seen_txn_ids:
        return _SEEN
    account = compact(credit.account)
    on_account = [c for c in _distinct(candidates) if compact(c.account) == account]

    named = _by_reference(compact(credit.memo), on_account)
    if len(named) == 1:
        return _against(credit, named[0])
    if named:
        return _UNMATCHED

    fitting = [
        c
        for c in on_account
        if not c.settled
        and c.amount_vnd == credit.amount_vnd
        and c.created_at <= credit.credited_at <= c.window_end
    ]
    if len(fitting) == 1:
        return _against(credit, fitting[0])
    return _UNMATCHED


def match_statement(
    credits: Sequence[Credit], candidates: Sequence[Expected], seen_txn_ids: Collection[str]
) -> list[Match]:
    """The outcome of each credit of a statement, in the statement's order.

    Lines are taken one after another as if each had arrived alone: a bank transaction id
    met on an earlier line is seen, and a payment ``matched`` on an earlier line is paid. An
    over- or under-payment does not make the payment paid, so a later exact credit still pays
    it and the mismatched one goes to be refunded or completed."""
    seen = set(seen_txn_ids)
    current = list(candidates)
    results: list[Match] = []
    for credit in credits:
        result = match_credit(credit, current, seen)
        results.append(result)
        seen.add(credit.bank_txn_id)
        if result.outcome is Outcome.matched:
            current = [
                dataclasses.replace(c, settled=True) if c.payment_id == result.payment_id else c
                for c in current
            ]
    return results
