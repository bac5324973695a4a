"""The payment state machine, as data: one table for every method (gateway, VietQR transfer,
cash at the desk, paid on behalf), checked in one place and rendered into the API docs.

A payment starts ``created``, waits ``pending`` while the money is on its way, and ends in one
final state. Money that arrives after the payment expired is not lost: ``succeeded_late``. A
succeeded payment can be refunded in one or several parts; a cash receipt recorded by mistake is
voided by a second officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PaymentStatus(StrEnum):
    created = "created"
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"
    amount_mismatch = "amount_mismatch"
    succeeded_late = "succeeded_late"
    refund_pending = "refund_pending"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    refund_failed = "refund_failed"
    voided = "voided"


STATUS_LABELS_VI: dict[PaymentStatus, str] = {
    PaymentStatus.created: "mới tạo",
    PaymentStatus.pending: "chờ thanh toán",
    PaymentStatus.succeeded: "đã thanh toán",
    PaymentStatus.failed: "thanh toán không thành công",
    PaymentStatus.expired: "hết hạn thanh toán",
    PaymentStatus.cancelled: "đã hủy",
    PaymentStatus.amount_mismatch: "số tiền không khớp, chờ xử lý",
    PaymentStatus.succeeded_late: "đã thanh toán sau khi hết hạn",
    PaymentStatus.refund_pending: "đang hoàn tiền",
    PaymentStatus.partially_refunded: "đã hoàn một phần",
    PaymentStatus.refunded: "đã hoàn tiền",
    PaymentStatus.refund_failed: "hoàn tiền không thành công",
    PaymentStatus.voided: "đã hủy biên lai (thu nhầm)",
}

# States in which the money is ours: the dossier counts as paid and a receipt exists.
PAID = frozenset(
    {
        PaymentStatus.succeeded,
        PaymentStatus.succeeded_late,
        PaymentStatus.refund_pending,
        PaymentStatus.partially_refunded,
        PaymentStatus.refund_failed,
    }
)
# States the mop-up job and the expiry sweep still have to settle.
OPEN = frozenset({PaymentStatus.created, PaymentStatus.pending})
# States from which nothing but a refund or a late payment can follow.
FINAL = frozenset(set(PaymentStatus) - OPEN - {PaymentStatus.refund_pending})


class PaymentAction(StrEnum):
    issue = "issue"  # the pay URL or the QR was handed out
    succeed = "succeed"
    fail = "fail"
    expire = "expire"
    cancel = "cancel"
    mismatch = "mismatch"
    succeed_late = "succeed_late"
    request_refund = "request_refund"
    refund_partially = "refund_partially"
    refund_fully = "refund_fully"
    refund_fail = "refund_fail"
    void = "void"


@dataclass(frozen=True)
class Transition:
    source: PaymentStatus
    action: PaymentAction
    target: PaymentStatus
    event: str  # the outbox event the transition writes
    description: str


S, A = PaymentStatus, PaymentAction
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.created, A.issue, S.pending, "payment.pending", "pay URL or QR handed out"),
    Transition(S.created, A.succeed, S.succeeded, "payment.succeeded", "cash or paid on behalf"),
    Transition(S.created, A.cancel, S.cancelled, "payment.cancelled", "dossier cancelled"),
    Transition(S.pending, A.succeed, S.succeeded, "payment.succeeded", "money received"),
    Transition(S.pending, A.fail, S.failed, "payment.failed", "gateway says not paid"),
    Transition(S.pending, A.expire, S.expired, "payment.expired", "past expiry, gateway unpaid"),
    Transition(S.pending, A.cancel, S.cancelled, "payment.cancelled", "dossier cancelled"),
    Transition(S.pending, A.mismatch, S.amount_mismatch, "payment.amount_mismatch", "wrong sum"),
    Transition(S.expired, A.succeed_late, S.succeeded_late, "payment.succeeded", "paid late"),
    # The wrong sum after the end: the money is still taken and must be given back.
    Transition(S.expired, A.mismatch, S.amount_mismatch, "payment.amount_mismatch", "late"),
    Transition(S.failed, A.mismatch, S.amount_mismatch, "payment.amount_mismatch", "late"),
    Transition(S.cancelled, A.mismatch, S.amount_mismatch, "payment.amount_mismatch", "late"),
    Transition(S.failed, A.succeed_late, S.succeeded_late, "payment.succeeded", "paid after all"),
    Transition(S.cancelled, A.succeed_late, S.succeeded_late, "payment.succeeded", "paid late"),
    Transition(S.succeeded, A.request_refund, S.refund_pending, "payment.refund_requested", ""),
    Transition(
        S.succeeded_late, A.request_refund, S.refund_pending, "payment.refund_requested", ""
    ),
    Transition(
        S.partially_refunded, A.request_refund, S.refund_pending, "payment.refund_requested", ""
    ),
    Transition(S.refund_failed, A.request_refund, S.refund_pending, "payment.refund_requested", ""),
    # A wrong sum is never marked paid: finance gives the money back (the request stays open).
    Transition(
        S.amount_mismatch, A.request_refund, S.refund_pending, "payment.refund_requested", ""
    ),
    Transition(
        S.refund_pending, A.refund_partially, S.partially_refunded, "payment.refunded", "part"
    ),
    Transition(S.refund_pending, A.refund_fully, S.refunded, "payment.refunded", "in full"),
    Transition(S.refund_pending, A.refund_fail, S.refund_failed, "payment.refund_failed", ""),
    Transition(S.succeeded, A.void, S.voided, "payment.voided", "cash recorded by mistake"),
)
del S, A

_TABLE: dict[tuple[PaymentStatus, PaymentAction], Transition] = {
    (t.source, t.action): t for t in TRANSITIONS
}


class TransitionNotAllowed(ValueError):
    def __init__(self, status: PaymentStatus, action: PaymentAction) -> None:
        super().__init__(f"{action} is not allowed on a {status} payment")
        self.status = status
        self.action = action


def transition(status: PaymentStatus | str, action: PaymentAction) -> Transition:
    """The one check every state change goes through."""
    found = _TABLE.get((PaymentStatus(status), action))
    if found is None:
        raise TransitionNotAllowed(PaymentStatus(status), action)
    return found


def allowed(status: PaymentStatus | str, action: PaymentAction) -> bool:
    return (PaymentStatus(status), action) in _TABLE


def sources_of(action: PaymentAction) -> frozenset[PaymentStatus]:
    """States ``action`` may start from: the ``WHERE status IN (…)`` of a guarded update."""
    return frozenset(t.source for t in TRANSITIONS if t.action == action)


def markdown_table() -> str:
    """The table as the API docs show it."""
    rows = ["| from | action | to | event |", "|---|---|---|---|"]
    for t in TRANSITIONS:
        rows.append(
            f"| {t.source} ({STATUS_LABELS_VI[t.source]}) | `{t.action}` | "
            f"{t.target} ({STATUS_LABELS_VI[t.target]}) | `{t.event}` |"
        )
    return "\n".join(rows)
