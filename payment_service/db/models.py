"""Payment's tables, in the ``payment`` schema.

Money is integer VND everywhere. Every row that money moved through keeps who, when and why;
the raw callbacks and gateway exchanges are kept append-only so a dispute can be replayed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import schema_metadata
from shared.messaging.tables import messaging_tables

SCHEMA = "payment"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


MESSAGING = messaging_tables(Base.metadata)


def _now_default() -> Any:
    return text("now()")


class FeeRequest(Base):
    """Kept for the history of fee requests raised before payment requests existed."""

    __tablename__ = "fee_requests"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    unit_path: Mapped[str] = mapped_column(Text, index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Dossier(Base):
    """What payment knows of a dossier, from intake's events: enough to scope and to refund."""

    __tablename__ = "dossiers"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    unit_code: Mapped[str] = mapped_column(String(16))
    unit_path: Mapped[str] = mapped_column(Text)
    procedure_code: Mapped[str] = mapped_column(String(40))
    procedure_name: Mapped[str] = mapped_column(Text)
    # sha256 of the applicant's ID number: enough to let them see their own payments, useless
    # to anyone reading the table.
    applicant_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    applicant_name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    closed_reason: Mapped[str | None] = mapped_column(String(24))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PaymentRequest(Base):
    """Yêu cầu thanh toán: what a dossier owes for one purpose (its fee, or a financial
    obligation workflow paused the case for), to one collecting agency."""

    __tablename__ = "payment_requests"
    __table_args__ = (
        # One open request per dossier and purpose.
        Index(
            "uq_payment_requests_open",
            "dossier_id",
            "purpose",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_payment_requests_scope", "unit_path", "created_at", "id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    unit_path: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    agency_code: Mapped[str] = mapped_column(String(40))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    paid_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    # The event that raised it (dossier received / case paused): a redelivery raises nothing.
    source_event_id: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Payment(Base):
    """One attempt to pay a request by one method; its status follows ``domain.states``."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_scope", "unit_path", "created_at", "id"),
        Index(
            "ix_payments_open",
            "next_check_at",
            postgresql_where=text("status IN ('created', 'pending')"),
        ),
        # A transfer without a usable memo is matched by amount and date.
        Index(
            "ix_payments_transfer_amount",
            "amount_vnd",
            "created_at",
            postgresql_where=text(
                "method = 'vietqr' AND status IN ('created', 'pending', 'expired')"
            ),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_requests.id"), index=True)
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    dossier_code: Mapped[str] = mapped_column(String(40))
    unit_path: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(24))
    agency_code: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(16))
    online: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(24))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    received_vnd: Mapped[int | None] = mapped_column(BigInteger)
    refunded_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_pending_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    # The gateway's vnp_TxnRef (unique for ever, so also unique within a day) or, for a
    # transfer, the short reference printed in the QR's purpose field.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    tmn_code: Mapped[str | None] = mapped_column(String(16))
    gateway_txn_no: Mapped[str | None] = mapped_column(String(40))
    bank_code: Mapped[str | None] = mapped_column(String(20))
    payer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    recorded_by: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Mop-up: when to ask the gateway next, and how often it was asked.
    next_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PaymentTransition(Base):
    """Append-only history of every state change of a payment."""

    __tablename__ = "payment_transitions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class Callback(Base):
    """Every message exchanged with a gateway or bank, as received or sent, secrets masked:
    IPNs (good, forged, duplicate), returns, credit notices, querydr and refund calls."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_reference", "reference", "received_at"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str | None] = mapped_column(String(64))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    signature_valid: Mapped[bool | None] = mapped_column(Boolean)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    outcome: Mapped[str | None] = mapped_column(String(32))


class ReceiptRange(Base):
    """Dải số biên lai: a registered range of receipt numbers of one collecting agency, under one
    form code (mẫu số) and symbol (ký hiệu)."""

    __tablename__ = "receipt_ranges"
    __table_args__ = (
        UniqueConstraint("agency_code", "form_code", "symbol", "first_number"),
        # A number past the range is never handed out, whatever the code above does.
        CheckConstraint("next_number <= last_number + 1", name="next_within_range"),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    form_code: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    first_number: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer)
    next_number: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Receipt(Base):
    """Biên lai điện tử: issued once per paid payment; a cancelled number is never reused."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("form_code", "symbol", "number"),
        Index("ix_receipts_scope", "unit_path", "issued_at", "id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), unique=True)
    range_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("receipt_ranges.id"))
    agency_code: Mapped[str] = mapped_column(String(40))
    unit_path: Mapped[str] = mapped_column(Text)
    dossier_code: Mapped[str] = mapped_column(String(40))
    form_code: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class Refund(Base):
    """Hoàn tiền: part or all of a paid payment given back."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_scope", "unit_path", "created_at", "id"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    unit_path: Mapped[str] = mapped_column(Text)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    # proposed (by the system, awaiting a finance officer) → submitted → succeeded | failed
    status: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(32), unique=True)
    gateway_code: Mapped[str | None] = mapped_column(String(8))
    proposed_reason: Mapped[str | None] = mapped_column(String(24))
    requested_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BankCredit(Base):
    """A credit to a collecting agency's account, from a notice or a statement line."""

    __tablename__ = "bank_credits"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    bank_txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    bank_bin: Mapped[str] = mapped_column(String(8))
    account_no: Mapped[str] = mapped_column(String(32), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(Text)
    credited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PaymentException(Base):
    """Ngoại lệ: money a finance officer has to look at (wrong sum, no reference, twice)."""

    __tablename__ = "exceptions"
    __table_args__ = (
        Index("ix_exceptions_scope", "unit_path", "created_at", "id"),
        UniqueConstraint("kind", "source_key"),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    # What raised it (a bank transaction id, a gateway transaction): raised once per source.
    source_key: Mapped[str] = mapped_column(String(96))
    unit_path: Mapped[str] = mapped_column(Text)
    agency_code: Mapped[str | None] = mapped_column(String(40))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    credit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    expected_vnd: Mapped[int | None] = mapped_column(BigInteger)
    received_vnd: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)


class CashClose(Base):
    """Chốt quỹ: one officer's cash-desk total for one day, closed once."""

    __tablename__ = "cash_closes"
    __table_args__ = (UniqueConstraint("officer", "day"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    officer: Mapped[str] = mapped_column(Text)
    day: Mapped[dt.date] = mapped_column(Date)
    unit_path: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    total_vnd: Mapped[int] = mapped_column(BigInteger)
    voided_count: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReconciliationRun(Base):
    """Đối soát: one agency, one method, one day; re-running replaces the items in place."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (UniqueConstraint("agency_code", "method", "day"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    unit_path: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    runs: Mapped[int] = mapped_column(Integer, default=1)
    ran_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ran_by: Mapped[str] = mapped_column(Text)


class IdempotencyKey(Base):
    """The first answer to a creating POST, replayed for the same key and body."""

    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    principal: Mapped[str] = mapped_column(Text, primary_key=True)
    operation: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=_now_default()
    )
