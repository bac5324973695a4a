"""Writes of the dossiers payment learns from intake and of the requests raised for them.

Both take many rows: a consumer hands over a run of receipts at once, and each call costs one
statement however many rows it is given."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import Dossier, PaymentRequest


def _table(model: type[Dossier] | type[PaymentRequest]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Core on the tables, not the ORM's bulk insert: the rows are plain dicts already, and the ORM's
# per-row bookkeeping was most of the cost of a run of receipts.
DOSSIERS = _table(Dossier)
REQUESTS = _table(PaymentRequest)

# A dossier is remembered from its first receipt; a re-published receipt changes nothing.
_REMEMBER = pg_insert(DOSSIERS).on_conflict_do_nothing(index_elements=[DOSSIERS.c.id])
# Nothing is raised twice: the source event's id is unique, and so is an open request per
# dossier and purpose. RETURNING says which were raised (and lets SQLAlchemy send every row in one
# multi-row statement); rows go in the given order, so of two requests for one open purpose the
# first is kept, as applying them one by one would.
_RAISE = pg_insert(REQUESTS).on_conflict_do_nothing().returning(REQUESTS.c.id)


async def remember_dossiers(session: AsyncSession, dossiers: Sequence[dict[str, Any]]) -> None:
    if dossiers:
        await session.execute(_REMEMBER, list(dossiers))


async def insert_requests(
    session: AsyncSession, requests: Sequence[dict[str, Any]]
) -> set[uuid.UUID]:
    """Store the requests; the ids of those stored (not seen before, no open one already)."""
    if not requests:
        return set()
    return set(await session.scalars(_RAISE, list(requests)))
