"""Receipt numbers and receipts. A number is taken by an ``UPDATE … RETURNING`` on the range's
row inside the transaction that stores the receipt: the row lock serialises concurrent
issuers, and a rollback gives the number back, so numbers are consecutive with no gaps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import scope
from payment_service.db.models import Payment, Receipt, ReceiptRange
from shared.auth import Principal
from shared.pagination import Keyset


async def take_number(session: AsyncSession, agency_code: str) -> tuple[ReceiptRange, int] | None:
    """The next number of the agency's current range: registered ranges before the system's
    default one, lowest first. The range row is locked before its number is read, so two
    issuers never see the same number or one past the range's end."""
    usable = (
        ReceiptRange.agency_code == agency_code,
        ReceiptRange.active,
        ReceiptRange.next_number <= ReceiptRange.last_number,
    )
    # A range another issuer exhausted while this one waited for its lock drops out of the
    # locked read, which then finds nothing: one more read sees the next range.
    for _ in range(2):
        current = await session.scalar(
            select(ReceiptRange)
            .where(*usable)
            .order_by(ReceiptRange.registered_by == "system", ReceiptRange.first_number)
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if current is not None and current.next_number <= current.last_number:
            number = current.next_number
            current.next_number = number + 1
            await session.flush()
            return current, number
    return None


async def has_any_range(session: AsyncSession, agency_code: str) -> bool:
    return (
        await session.scalar(
            select(ReceiptRange.id).where(ReceiptRange.agency_code == agency_code).limit(1)
        )
    ) is not None


async def retire_system_ranges(session: AsyncSession, agency_code: str) -> None:
    await session.execute(
        update(ReceiptRange)
        .where(ReceiptRange.agency_code == agency_code, ReceiptRange.registered_by == "system")
        .values(active=False)
    )


async def add_range(session: AsyncSession, row: dict[str, object]) -> bool:
    """False when the same range (agency, form, symbol, first number) exists already."""
    inserted = await session.scalar(
        pg_insert(ReceiptRange).values(**row).on_conflict_do_nothing().returning(ReceiptRange.id)
    )
    return inserted is not None


async def overlapping_range(
    session: AsyncSession, form_code: str, symbol: str, first: int, last: int
) -> ReceiptRange | None:
    return await session.scalar(
        select(ReceiptRange).where(
            ReceiptRange.form_code == form_code,
            ReceiptRange.symbol == symbol,
            ReceiptRange.first_number <= last,
            ReceiptRange.last_number >= first,
        )
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    dossier = select(Payment.dossier_id).where(Payment.id == Receipt.payment_id).scalar_subquery()
    return scope(Receipt.unit_path, dossier, principal)


async def visible_receipt(
    session: AsyncSession, receipt_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Receipt | None:
    query = select(Receipt).where(Receipt.id == receipt_id, _visible(principal))
    if lock:
        query = query.with_for_update(of=Receipt)
    return await session.scalar(query)


async def receipt_of_payment(session: AsyncSession, payment_id: uuid.UUID) -> Receipt | None:
    return await session.scalar(select(Receipt).where(Receipt.payment_id == payment_id))


async def receipt_ids_of(
    session: AsyncSession, payment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    if not payment_ids:
        return {}
    rows = await session.execute(
        select(Receipt.payment_id, Receipt.id).where(Receipt.payment_id.in_(payment_ids))
    )
    return {payment_id: receipt_id for payment_id, receipt_id in rows.tuples()}


RECEIPT_ORDER = Keyset(columns=(Receipt.issued_at, Receipt.id))


async def list_receipts(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_code: str | None,
    agency_code: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Receipt]:
    query = select(Receipt).where(_visible(principal))
    if dossier_code:
        query = query.where(Receipt.dossier_code == dossier_code)
    if agency_code:
        query = query.where(Receipt.agency_code == agency_code)
    return (await session.scalars(RECEIPT_ORDER.apply(query, cursor, limit))).all()


RANGE_ORDER = Keyset(columns=(ReceiptRange.registered_at, ReceiptRange.id))


async def list_ranges(
    session: AsyncSession, agency_code: str | None, cursor: str | None, limit: int
) -> Sequence[ReceiptRange]:
    """Up to ``limit + 1`` ranges after the cursor, in the order they were registered."""
    query = select(ReceiptRange)
    if agency_code:
        query = query.where(ReceiptRange.agency_code == agency_code)
    return (await session.scalars(RANGE_ORDER.apply(query, cursor, limit))).all()
