"""The statements that apply a run of workflow's events to many dossiers at once: one locked read
of their lifecycle columns, one update of those that moved, one insert of their log rows.

Core on the dossiers table rather than the ORM's unit of work: a hundred cases opened cost these
three statements, not a hundred loads and flushes. Rows the session holds as ORM objects are
flushed before the read and expired after the writes, so a one-event handler later in the same
transaction sees what these statements wrote."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Integer,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from intake_service.db.models import Dossier, DossierAction


def _table(model: type[Dossier] | type[DossierAction]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


DOSSIERS = _table(Dossier)
ACTIONS = _table(DossierAction)


@dataclass(frozen=True, slots=True)
class LifecycleRow:
    """What the lifecycle table decides on, and what a move writes back."""

    status: str
    received: bool
    case_id: uuid.UUID | None
    version: int


@dataclass(frozen=True, slots=True)
class LoggedMove:
    """One row of a dossier's log, as :func:`intake_service.dossiers.repository.add_action`
    writes it."""

    dossier_id: uuid.UUID
    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str | None
    unit_code: str | None
    at: dt.datetime
    note: str | None = None


_LOCKED = (
    select(
        DOSSIERS.c.id,
        DOSSIERS.c.status,
        DOSSIERS.c.received_at.is_not(None).label("received"),
        DOSSIERS.c.case_id,
        DOSSIERS.c.version,
    )
    .where(DOSSIERS.c.id == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))))
    # One lock order for every transaction that takes several dossiers.
    .order_by(DOSSIERS.c.id)
    .with_for_update()
)


async def locked_rows(
    session: AsyncSession, dossier_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, LifecycleRow]:
    """The dossiers' lifecycle columns, their rows locked until the transaction ends; an
    unknown dossier is absent."""
    await session.flush()  # what an earlier handler of this transaction changed through the ORM
    rows = await session.execute(_LOCKED, {"ids": list(dossier_ids)})
    return {
        r.id: LifecycleRow(
            status=r.status, received=r.received, case_id=r.case_id, version=r.version
        )
        for r in rows
    }


def _moved() -> Any:
    # The new values travel as one array per column: one statement, whatever the number of rows.
    moved = (
        func.unnest(
            bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
            bindparam("statuses", type_=ARRAY(String)),
            bindparam("case_ids", type_=ARRAY(UUID(as_uuid=True))),
            bindparam("versions", type_=ARRAY(Integer)),
        )
        .table_valued("id", "status", "case_id", "version")
        .render_derived()
    )
    return (
        update(DOSSIERS)
        .where(DOSSIERS.c.id == moved.c.id)
        .values(status=moved.c.status, case_id=moved.c.case_id, version=moved.c.version)
    )


_UPDATE = _moved()


async def write_rows(session: AsyncSession, rows: Mapping[uuid.UUID, LifecycleRow]) -> None:
    """Write back the rows :func:`locked_rows` read and the run changed."""
    if not rows:
        return
    ids = sorted(rows)
    await session.execute(
        _UPDATE,
        {
            "ids": ids,
            "statuses": [rows[i].status for i in ids],
            "case_ids": [rows[i].case_id for i in ids],
            "versions": [rows[i].version for i in ids],
        },
    )
    _expire(session, ids)


async def log_moves(session: AsyncSession, moves: Sequence[LoggedMove]) -> None:
    if moves:
        await session.execute(
            insert(ACTIONS),
            [
                {
                    "dossier_id": m.dossier_id,
                    "action": m.action,
                    "from_status": m.from_status,
                    "to_status": m.to_status,
                    "actor": m.actor,
                    "role": m.role,
                    "unit_code": m.unit_code,
                    "at": m.at,
                    "note": m.note,
                }
                for m in moves
            ],
        )


def _expire(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """A dossier the session holds as an ORM object is stale now: its next load reads the row."""
    identity_map = session.sync_session.identity_map
    for dossier_id in ids:
        held = identity_map.get(identity_key(Dossier, dossier_id))
        if held is not None:
            session.expire(held)


@dataclass(frozen=True, slots=True)
class PaymentViewRow:
    """What payment's events change on a dossier: columns no lifecycle step owns (neither the
    version nor the log moves, as in ``db.models.QUIET_COLUMNS``)."""

    fee_request_id: uuid.UUID | None
    payments: dict[str, Any]


_LOCKED_VIEW = (
    select(DOSSIERS.c.id, DOSSIERS.c.fee_request_id, DOSSIERS.c.payments)
    .where(DOSSIERS.c.id == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))))
    .order_by(DOSSIERS.c.id)
    .with_for_update()
)


async def locked_payment_views(
    session: AsyncSession, dossier_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, PaymentViewRow]:
    """The dossiers' payment columns, their rows locked until the transaction ends; an unknown
    dossier is absent."""
    await session.flush()
    rows = await session.execute(_LOCKED_VIEW, {"ids": list(dossier_ids)})
    return {
        r.id: PaymentViewRow(fee_request_id=r.fee_request_id, payments=r.payments or {})
        for r in rows
    }


def _viewed() -> Any:
    viewed = (
        func.unnest(
            bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
            bindparam("fee_request_ids", type_=ARRAY(UUID(as_uuid=True))),
            # JSON as text, cast in the statement: one array parameter whatever the row count.
            bindparam("payments", type_=ARRAY(Text)),
        )
        .table_valued("id", "fee_request_id", "payments")
        .render_derived()
    )
    return (
        update(DOSSIERS)
        .where(DOSSIERS.c.id == viewed.c.id)
        .values(
            fee_request_id=viewed.c.fee_request_id,
            payments=cast(viewed.c.payments, JSONB),
        )
    )


_UPDATE_VIEW = _viewed()


async def write_payment_views(
    session: AsyncSession, rows: Mapping[uuid.UUID, PaymentViewRow]
) -> None:
    """Write back the rows :func:`locked_payment_views` read and a run changed."""
    if not rows:
        return
    ids = sorted(rows)
    await session.execute(
        _UPDATE_VIEW,
        {
            "ids": ids,
            "fee_request_ids": [rows[i].fee_request_id for i in ids],
            "payments": [orjson.dumps(rows[i].payments).decode() for i in ids],
        },
    )
    _expire(session, ids)
