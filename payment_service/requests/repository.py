"""Writes of the dossiers payment learns from intake and of the requests raised for them.

Both take many rows: a consumer hands over a run of receipts at once, and each call costs one
statement however many rows it is given."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Column, String, Table, TextualSelect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault

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
#
# The rows travel as one array per column, unpacked by ``unnest`` in that order: the statement
# reads the same for one request or two hundred, so it is prepared once per connection instead
# of a multi-row VALUES of a new length (parsed and planned again) for every size of run.
_DIALECT = postgresql.dialect()


def _array_type(column: Column[Any]) -> str:
    # Strings as text (a cast to varchar(n) would cut an overlong value silently, where the
    # column refuses it); JSON as its text, cast back in the statement.
    if isinstance(column.type, String | JSONB):
        return "TEXT[]"
    return f"{column.type.compile(dialect=_DIALECT)}[]"


def _raise_sql() -> TextualSelect:
    quote = _DIALECT.identifier_preparer.quote
    names = [quote(c.name) for c in REQUESTS.columns]
    picked = [
        f"CAST(v.{quote(c.name)} AS JSONB)" if isinstance(c.type, JSONB) else f"v.{quote(c.name)}"
        for c in REQUESTS.columns
    ]
    arrays = [f"CAST(:{c.name} AS {_array_type(c)})" for c in REQUESTS.columns]
    return text(
        f"INSERT INTO {_DIALECT.identifier_preparer.format_table(REQUESTS)} ({', '.join(names)}) "
        f"SELECT {', '.join(picked)} FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}) "
        "ON CONFLICT DO NOTHING RETURNING id"
    ).columns(REQUESTS.c.id)


_RAISE = _raise_sql()


def _columns(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {}
    for column in REQUESTS.columns:
        # A column a row leaves out takes its default, as it would from an insert of the row.
        default = (
            column.default.arg if isinstance(column.default, ScalarElementColumnDefault) else None
        )
        values = [row.get(column.name, default) for row in rows]
        if isinstance(column.type, JSONB):
            values = [None if v is None else orjson.dumps(v).decode() for v in values]
        params[column.name] = values
    return params


async def remember_dossiers(session: AsyncSession, dossiers: Sequence[dict[str, Any]]) -> None:
    if dossiers:
        await session.execute(_REMEMBER, list(dossiers))


async def insert_requests(
    session: AsyncSession, requests: Sequence[dict[str, Any]]
) -> set[uuid.UUID]:
    """Store the requests; the ids of those stored (not seen before, no open one already)."""
    if not requests:
        return set()
    return set(await session.scalars(_RAISE, _columns(requests)))
