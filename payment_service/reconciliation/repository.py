"""Every query of reconciliation: our side of a day, whose a statement line is, the runs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import scope
from payment_service.db.models import BankCredit, Dossier, Payment, ReconciliationRun, Refund
from payment_service.domain.states import PAID, PaymentStatus
from shared.auth import Principal
from shared.pagination import Keyset

# A payment whose money the gateway took and we kept as received, refunded since or not; a
# wrong sum too (we hold what arrived, with the instant it arrived as its end).
RECEIVED = frozenset(PAID | {PaymentStatus.refunded, PaymentStatus.amount_mismatch})


async def unit_path_of_agency_payments(session: AsyncSession, agency_code: str) -> str | None:
    return await session.scalar(
        select(Payment.unit_path).where(Payment.agency_code == agency_code).limit(1)
    )


async def unit_path_of_unit(session: AsyncSession, unit_code: str) -> str | None:
    """A unit's path as intake's events told it, from any dossier received there."""
    return await session.scalar(
        select(Dossier.unit_path).where(Dossier.unit_code == unit_code).limit(1)
    )


async def vnpay_payments(
    session: AsyncSession, agency_code: str, start: dt.datetime, end: dt.datetime
) -> Sequence[Payment]:
    return (
        await session.scalars(
            select(Payment).where(
                Payment.agency_code == agency_code,
                Payment.method == "vnpay",
                Payment.status.in_(RECEIVED),
                func.coalesce(Payment.paid_at, Payment.finished_at) >= start,
                func.coalesce(Payment.paid_at, Payment.finished_at) < end,
            )
        )
    ).all()


async def vnpay_refunds(
    session: AsyncSession, agency_code: str, start: dt.datetime, end: dt.datetime
) -> Sequence[tuple[Refund, str]]:
    """Refunds the gateway made that day for the agency's payments, with the payment's reference
    (the TxnRef the gateway lists the refund under)."""
    rows = await session.execute(
        select(Refund, Payment.reference)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Payment.agency_code == agency_code,
            Payment.method == "vnpay",
            Refund.status == "succeeded",
            Refund.finished_at >= start,
            Refund.finished_at < end,
        )
    )
    return [(refund, reference) for refund, reference in rows.tuples()]


async def matched_credits(
    session: AsyncSession, agency_code: str, account_no: str, start: dt.datetime, end: dt.datetime
) -> Sequence[BankCredit]:
    """Credits on the account that settled one of the agency's payments; the join keeps out the
    credits of other agencies when several collect into one account (the treasury's)."""
    return (
        await session.scalars(
            select(BankCredit)
            .join(Payment, Payment.id == BankCredit.payment_id)
            .where(
                BankCredit.account_no == account_no,
                BankCredit.outcome == "matched",
                BankCredit.credited_at >= start,
                BankCredit.credited_at < end,
                Payment.agency_code == agency_code,
            )
        )
    ).all()


async def references_of_other_agencies(
    session: AsyncSession, agency_code: str, references: Collection[str]
) -> set[str]:
    """Which of these gateway references are payments collected by another agency."""
    if not references:
        return set()
    rows = await session.scalars(
        select(Payment.reference).where(
            Payment.reference.in_(references), Payment.agency_code != agency_code
        )
    )
    return set(rows)


async def credits_of_other_agencies(
    session: AsyncSession, agency_code: str, transaction_ids: Collection[str]
) -> set[str]:
    """Which of these bank transactions settled a payment collected by another agency."""
    if not transaction_ids:
        return set()
    rows = await session.scalars(
        select(BankCredit.bank_txn_id)
        .join(Payment, Payment.id == BankCredit.payment_id)
        .where(BankCredit.bank_txn_id.in_(transaction_ids), Payment.agency_code != agency_code)
    )
    return set(rows)


async def save_run(session: AsyncSession, values: dict[str, Any]) -> ReconciliationRun:
    """One row per (agency, method, day): a re-run replaces the report in place and counts
    itself, in one statement, so two officers running the same day at once both land."""
    insert = pg_insert(ReconciliationRun).values(**values, runs=1)
    statement = (
        insert.on_conflict_do_update(
            index_elements=[
                ReconciliationRun.agency_code,
                ReconciliationRun.method,
                ReconciliationRun.day,
            ],
            set_={
                "unit_path": insert.excluded.unit_path,
                "summary": insert.excluded.summary,
                # By name: ``excluded.items`` is the column collection's own method.
                "items": insert.excluded["items"],
                "runs": ReconciliationRun.runs + 1,
                "ran_at": insert.excluded.ran_at,
                "ran_by": insert.excluded.ran_by,
            },
        )
        .returning(ReconciliationRun)
        .execution_options(populate_existing=True)
    )
    run = await session.scalar(statement)
    assert run is not None  # an upsert always returns its row
    return run


def _visible(principal: Principal) -> ColumnElement[bool]:
    # Runs belong to officers alone: no applicant column to match.
    return scope(ReconciliationRun.unit_path, None, principal)


async def visible_run(
    session: AsyncSession, run_id: uuid.UUID, principal: Principal
) -> ReconciliationRun | None:
    return await session.scalar(
        select(ReconciliationRun).where(ReconciliationRun.id == run_id, _visible(principal))
    )


RUN_ORDER = Keyset(columns=(ReconciliationRun.day, ReconciliationRun.id))


async def list_runs(
    session: AsyncSession,
    principal: Principal,
    *,
    agency_code: str | None,
    method: str | None,
    day_from: dt.date | None,
    day_to: dt.date | None,
    cursor: str | None,
    limit: int,
) -> Sequence[ReconciliationRun]:
    query = select(ReconciliationRun).where(_visible(principal))
    if agency_code:
        query = query.where(ReconciliationRun.agency_code == agency_code)
    if method:
        query = query.where(ReconciliationRun.method == method)
    if day_from:
        query = query.where(ReconciliationRun.day >= day_from)
    if day_to:
        query = query.where(ReconciliationRun.day <= day_to)
    return (await session.scalars(RUN_ORDER.apply(query, cursor, limit))).all()
