"""Every query of dossiers' facts and of the counters they imply.

The consumer hands over a run of events at once, so every function here takes many dossiers and
costs one statement however many it is given: one select of the facts, one write of the new
ones, one of the changed ones, one upsert of the counter deltas."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    String,
    Table,
    TextualSelect,
    TypeDecorator,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Base, Counter, DossierFact
from metrics_service.domain.counting import CounterKey
from metrics_service.domain.facts import FIELDS, Fact
from shared.auth import Principal, unit_scope


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


FACTS = _table(DossierFact)
COUNTERS = _table(Counter)

# Core rows rather than ORM objects: a run applies several events of one dossier in one session,
# and an identity map would only add work (and could hand back a stale copy).
_LOCKED = (
    select(FACTS.c.dossier_id, *(FACTS.c[name] for name in FIELDS))
    .where(FACTS.c.dossier_id == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))))
    # One lock order for every transaction, so two consumers on overlapping dossiers never
    # deadlock.
    .order_by(FACTS.c.dossier_id)
    .with_for_update()
)


async def locked(
    session: AsyncSession, dossier_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Fact]:
    """The facts known of these dossiers, their rows locked until the transaction ends; a
    dossier metrics knows nothing of is absent."""
    if not dossier_ids:
        return {}
    rows = await session.execute(_LOCKED, {"ids": list(dossier_ids)})
    # The select names the fact's fields in the dataclass's order (``FIELDS``), after the id.
    return {row[0]: Fact(*row[1:]) for row in rows}


# When the receipt was first counted: the end of the path that benchmarks measure. A row is
# written with its receipt known (``counted``) either when it is inserted or when the receipt
# arrives after other events; the first time it is set, it stays.
#
# The rows travel as one array per column and are unpacked by ``unnest``, so the statement reads
# the same for one fact or two hundred: prepared once per connection, instead of a multi-row
# VALUES of a new length (parsed and planned again by PostgreSQL) for every size of run.
_DIALECT = postgresql.dialect()


def _array_type(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    # Strings as text: a cast to varchar(n) would cut an overlong value silently, where writing
    # it into the column refuses it.
    if isinstance(kind, String):
        return "TEXT[]"
    return f"{kind.compile(dialect=_DIALECT)}[]"


def _write_sql(on_conflict: str) -> TextualSelect:
    quote = _DIALECT.identifier_preparer.quote
    columns = [FACTS.c.dossier_id, *(FACTS.c[name] for name in FIELDS)]
    names = [quote(c.name) for c in columns]
    arrays = [f"CAST(:{c.name} AS {_array_type(c)})" for c in columns]
    return text(
        f"INSERT INTO {_DIALECT.identifier_preparer.format_table(FACTS)} "
        f"({', '.join(names)}, counted_at) "
        f"SELECT {', '.join(f'v.{n}' for n in names)}, CASE WHEN v.counted THEN now() END "
        f"FROM unnest({', '.join(arrays)}, CAST(:counted AS BOOLEAN[])) "
        f"AS v({', '.join(names)}, counted) "
        f"ON CONFLICT (dossier_id) {on_conflict} RETURNING dossier_id"
    ).columns(FACTS.c.dossier_id)


_INSERT_NEW = _write_sql("DO NOTHING")
_UPDATE_KNOWN = _write_sql(
    "DO UPDATE SET "
    + ", ".join(f"{_DIALECT.identifier_preparer.quote(n)} = EXCLUDED.{n}" for n in FIELDS)
    + ", counted_at = coalesce(dossier_facts.counted_at, EXCLUDED.counted_at)"
)


def _fact_rows(facts: Mapping[uuid.UUID, Fact]) -> dict[str, list[Any]]:
    ordered = sorted(facts.items())
    params: dict[str, list[Any]] = {"dossier_id": [dossier_id for dossier_id, _ in ordered]}
    for name in FIELDS:
        params[name] = [getattr(fact, name) for _, fact in ordered]
    params["counted"] = [fact.received_at is not None for _, fact in ordered]
    return params


async def insert_new(session: AsyncSession, facts: Mapping[uuid.UUID, Fact]) -> set[uuid.UUID]:
    """Insert the facts of dossiers not known before; the ids it inserted. One missing from the
    answer was stored by another transaction since :func:`locked` looked, and is left as it is."""
    if not facts:
        return set()
    return set(await session.scalars(_INSERT_NEW, _fact_rows(facts)))


async def update_known(session: AsyncSession, facts: Mapping[uuid.UUID, Fact]) -> None:
    """Overwrite facts whose rows this transaction holds locked (see :func:`locked`)."""
    if facts:
        await session.execute(_UPDATE_KNOWN, _fact_rows(facts))


async def in_scope(
    session: AsyncSession, dossier_id: uuid.UUID, principal: Principal
) -> DossierFact | None:
    """The dossier's fact if its unit lies in the principal's subtree."""
    return await session.scalar(
        select(DossierFact).where(
            DossierFact.dossier_id == dossier_id, unit_scope(DossierFact.unit_path, principal)
        )
    )


_KEY = ("unit_code", "period", "procedure_code", "channel", "metric")


def _upsert_deltas() -> Any:
    """One statement for any number of counters: the deltas travel as one array per column,
    so the statement's text, and the plan PostgreSQL prepared for it, never change. A key may
    appear once only (PostgreSQL refuses to update one row twice in a statement): the caller
    merges the deltas first."""
    deltas = select(
        func.unnest(
            *(bindparam(f"{name}s", type_=ARRAY(String)) for name in _KEY),
            bindparam("values", type_=ARRAY(BigInteger)),
        )
        .table_valued(*_KEY, "value")
        .render_derived()
    )
    stmt = pg_insert(COUNTERS).from_select([*_KEY, "value"], deltas)
    return stmt.on_conflict_do_update(
        index_elements=[COUNTERS.c[name] for name in _KEY],
        set_={"value": COUNTERS.c.value + stmt.excluded.value},
    )


_UPSERT_DELTAS = _upsert_deltas()


async def add_to_counters(session: AsyncSession, changes: Mapping[CounterKey, int]) -> None:
    """Add each merged amount (positive, or negative when facts stop counting under a key) to
    its counter."""
    keys = sorted((k for k in changes if changes[k]), key=_order)
    if not keys:
        return
    params: dict[str, list[Any]] = {f"{name}s": [getattr(k, name) for k in keys] for name in _KEY}
    params["values"] = [changes[k] for k in keys]
    await session.execute(_UPSERT_DELTAS, params)


def _order(k: CounterKey) -> tuple[str, ...]:
    # A fixed lock order keeps two transactions on overlapping counters from deadlocking.
    return (k.unit_code, k.period, k.procedure_code, k.channel, k.metric)
