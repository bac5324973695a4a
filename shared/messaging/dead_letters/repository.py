"""Every query of the dead letters, over the service's own ``dead_letters`` table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import Keyset, bad_cursor


@dataclass(frozen=True)
class IdKeyset(Keyset):
    """Newest first by id alone; the cursor is the plain id of the last letter seen, as ops
    scripts have always sent it."""

    descending: bool = True

    def encode(self, values: tuple[Any, ...]) -> str:
        (ident,) = values
        return str(ident)

    def decode(self, cursor: str) -> tuple[Any, ...]:
        try:
            return (int(cursor),)
        except ValueError as exc:
            raise bad_cursor() from exc


def order(table: Table) -> IdKeyset:
    return IdKeyset(columns=(table.c.id,))


async def page(
    session: AsyncSession, table: Table, cursor: str | None, limit: int, *, pending_only: bool
) -> Sequence[RowMapping]:
    """Up to ``limit + 1`` letters after the cursor, newest first."""
    query = select(table)
    if pending_only:
        query = query.where(table.c.replayed_at.is_(None))
    query = order(table).apply(query, cursor, limit)
    return (await session.execute(query)).mappings().all()


async def get(session: AsyncSession, table: Table, dead_letter_id: int) -> RowMapping | None:
    return (
        (await session.execute(select(table).where(table.c.id == dead_letter_id)))
        .mappings()
        .first()
    )


async def mark_replayed(
    session: AsyncSession, table: Table, dead_letter_id: int, at: dt.datetime
) -> None:
    await session.execute(update(table).where(table.c.id == dead_letter_id).values(replayed_at=at))
