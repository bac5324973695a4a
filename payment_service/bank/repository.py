"""Every query of bank credits: claiming a bank transaction id, the payments a credit may pay,
and the list finance and ops read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import scope
from payment_service.db.models import BankCredit, Payment, PaymentException, PaymentRequest
from payment_service.domain.credit_matching import FALLBACK_WINDOW
from shared.auth import Principal, Role
from shared.pagination import Keyset


async def claim_credit(session: AsyncSession, values: dict[str, Any]) -> BankCredit | None:
    """Insert the credit unless its bank transaction id is known; None when it is.

    The unique bank_txn_id is the claim: of two copies of one notice arriving together, the
    second waits for the first to commit and then inserts nothing."""
    return await session.scalar(
        pg_insert(BankCredit)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[BankCredit.bank_txn_id])
        .returning(BankCredit)
    )


async def credit_by_txn(session: AsyncSession, bank_txn_id: str) -> BankCredit | None:
    return await session.scalar(select(BankCredit).where(BankCredit.bank_txn_id == bank_txn_id))


@dataclass(frozen=True)
class Agencies:
    """The collecting agencies whose money goes to one account: ``only`` these, or (None)
    every agency except those ``excluded`` (the default account serves all unlisted ones)."""

    only: frozenset[str] | None
    excluded: frozenset[str] = frozenset()

    def clause(self) -> Any:
        if self.only is not None:
            return Payment.agency_code.in_(self.only) if self.only else false()
        return Payment.agency_code.not_in(self.excluded) if self.excluded else true()


async def lock_candidates(
    session: AsyncSession,
    *,
    references: Collection[str],
    amount_vnd: int,
    fallback_statuses: Collection[str],
    agencies: Agencies,
    credited_at: dt.datetime,
) -> Sequence[Payment]:
    """Transfer payments the memo names (whatever their state: a named paid payment makes the
    credit a duplicate), and those of the credited account waiting for exactly this amount,
    locked in id order so two credits never lock the same payments crosswise."""
    named = Payment.reference.in_(list(references)) if references else false()
    # Only payments that could have been paid by then: the match window bounds the scan
    # (ix_payments_transfer_amount) and keeps years of expired QRs out of it.
    same_amount = and_(
        Payment.amount_vnd == amount_vnd,
        Payment.status.in_(list(fallback_statuses)),
        Payment.created_at.between(credited_at - FALLBACK_WINDOW, credited_at),
        agencies.clause(),
    )
    return (
        await session.scalars(
            select(Payment)
            .where(Payment.method == "vietqr", or_(named, same_amount))
            .order_by(Payment.id)
            .with_for_update()
        )
    ).all()


async def provinces_of_agencies(
    session: AsyncSession, agency_codes: Collection[str]
) -> dict[str, set[str]]:
    """The province codes (first unit of the path) each agency has collected for."""
    rows = await session.execute(
        select(PaymentRequest.agency_code, func.split_part(PaymentRequest.unit_path, ".", 1))
        .where(PaymentRequest.agency_code.in_(list(agency_codes)))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for agency, province in rows:
        found.setdefault(agency, set()).add(province)
    return found


def _visible(principal: Principal) -> Any:
    """A credit is seen by whoever sees the payment it went to or the exception it raised;
    ops sees every credit, those of no unit included."""
    if principal.has_role(Role.ops):
        return true()
    return or_(
        exists().where(
            Payment.id == BankCredit.payment_id, scope(Payment.unit_path, None, principal)
        ),
        exists().where(
            PaymentException.credit_id == BankCredit.id,
            scope(PaymentException.unit_path, None, principal),
        ),
    )


CREDIT_ORDER = Keyset(columns=(BankCredit.received_at, BankCredit.id))


async def list_credits(
    session: AsyncSession,
    principal: Principal,
    *,
    account_no: str | None,
    outcome: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[BankCredit]:
    query = select(BankCredit).where(_visible(principal))
    if account_no:
        query = query.where(BankCredit.account_no == account_no)
    if outcome:
        query = query.where(BankCredit.outcome == outcome)
    return (await session.scalars(CREDIT_ORDER.apply(query, cursor, limit))).all()
