"""Every query of the integration feature: the change feed of dossier statuses, read from the
append-only ``dossier_actions`` log, and the dossiers an integration client knows by its own id.

Why not simply "rows with id > last id seen": an identity value is drawn when a row is inserted,
but rows become visible when their transaction commits, and commits land out of order. A reader
that saw id 11 (committed) while id 10 was still in flight would move past 10 and never return
to it. A time margin ("only rows older than N seconds") does not fix it here either, because the
``at`` of a row is the event's time, not the insert's: a workflow event consumed late carries an
old ``at`` on a row inserted now.

So every read runs in one REPEATABLE READ snapshot and notes which transactions were still in
progress (``pg_current_snapshot()``). A missing id at or below the position handed out can only
belong to one of them (ids below a visible committed id were drawn before the snapshot, by a
transaction then in progress; or by one that rolled back, leaving a gap for good). The position
therefore carries, besides the last id delivered, the lowest such gap and the transactions to
watch. The next read returns, first, rows in that range written by a watched transaction that
has committed since, then new rows. Once no watched transaction is in progress, the range is
dropped. Nothing is skipped and nothing is delivered twice; the price is that a late row comes
after rows with higher ids (order is by id within a page, then by commit).

Transaction ids are compared in their 32-bit form (the system column ``xmin``), modulo 2^32:
watched transactions are recent, so wraparound does not blur them. One window remains: a writer
draws the row id a moment before it gets its transaction id (both inside one INSERT). A read
falling between the two does not see that writer in progress; the position's ``horizon`` (the
first transaction id the snapshot did not cover) makes the next read take such rows too, which
is enough as long as that INSERT's transaction has committed by the client's next poll.

Cost: the late range is scanned by primary key from the lowest open gap, so a transaction that
stays open for long (anywhere on the cluster: the snapshot lists them all) keeps the range
growing until it ends. Savepoints are not used by the writers of this table; a row written in a
subtransaction would carry an id the snapshot does not list.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Text, and_, cast, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction
from intake_service.domain.documents import DocumentAudit
from intake_service.dossiers.repository import visible_to
from shared.auth import Principal, unit_scope

_XID_MOD = 1 << 32
_XMIN = cast(cast(literal_column("intake.dossier_actions.xmin"), Text), BigInteger)


@dataclass(frozen=True)
class FeedPosition:
    """Where a client stands in the feed; encoded into the opaque cursor by the API."""

    after: int = 0
    floor: int = 0  # lowest id a watched transaction may still fill (only with ``watch``)
    watch: frozenset[int] = field(default_factory=frozenset)  # 32-bit ids in progress
    horizon: int | None = None  # 32-bit: transactions from here on were not in the snapshot


@dataclass(frozen=True)
class Change:
    id: int
    dossier_id: uuid.UUID
    dossier_code: str
    source_system: str | None
    external_id: str | None
    unit_code: str
    action: str
    from_status: str | None
    to_status: str
    at: Any


@dataclass(frozen=True)
class FeedPage:
    changes: list[Change]
    position: FeedPosition
    has_more: bool


def _newer_or_same(xid32: ColumnElement[int], horizon: int) -> ColumnElement[bool]:
    return ((xid32 - horizon + _XID_MOD) % _XID_MOD) < (_XID_MOD >> 1)


def _changes(scope: ColumnElement[bool]) -> Any:
    return (
        select(
            DossierAction.id,
            DossierAction.dossier_id,
            Dossier.code,
            Dossier.source_system,
            Dossier.external_id,
            Dossier.unit_code,
            DossierAction.action,
            DossierAction.from_status,
            DossierAction.to_status,
            DossierAction.at,
        )
        .join(Dossier, Dossier.id == DossierAction.dossier_id)
        # Who looked at the applicant's documents, and consent, are the dossier's audit trail,
        # not changes another system follows.
        .where(scope, DossierAction.action.not_in(list(DocumentAudit)))
        .order_by(DossierAction.id)
    )


_FIRST_GAP = text(
    """
    SELECT min(prev + 1) FROM (
        SELECT id, lag(id, 1, CAST(:after AS bigint)) OVER (ORDER BY id) AS prev
        FROM intake.dossier_actions WHERE id > :after AND id <= :upto
    ) s WHERE id > prev + 1
    """
)


async def read_changes(
    session: AsyncSession, principal: Principal, position: FeedPosition, limit: int
) -> FeedPage:
    """One page of changes after ``position`` within the client's units, and the position after
    it."""
    scope = unit_scope(Dossier.unit_path, principal)
    # The snapshot's isolation is the transaction's first statement: the request's session has
    # run nothing before this read (the route commits the read-only transaction afterwards).
    await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    snapshot = (
        await session.execute(
            text(
                "SELECT pg_snapshot_xmax(s)::text, "
                "ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x) "
                "FROM pg_current_snapshot() AS s"
            )
        )
    ).one()
    xmax_now = int(snapshot[0]) % _XID_MOD
    in_progress = frozenset(int(x) % _XID_MOD for x in snapshot[1])

    late: list[Any] = []
    if position.watch or position.horizon is not None:
        watched: ColumnElement[bool] = _XMIN.op("%")(_XID_MOD).in_(sorted(position.watch))
        if position.horizon is not None:
            watched = watched | _newer_or_same(_XMIN.op("%")(_XID_MOD), position.horizon)
        late = list(
            await session.execute(
                _changes(scope).where(
                    and_(
                        DossierAction.id >= position.floor,
                        DossierAction.id <= position.after,
                        watched,
                    )
                )
            )
        )
    fresh = list(
        await session.execute(_changes(scope).where(DossierAction.id > position.after).limit(limit))
    )
    after = fresh[-1].id if fresh else position.after
    gap = None
    if after > position.after:
        gap = await session.scalar(_FIRST_GAP, {"after": position.after, "upto": after})

    still_relevant = not position.watch.isdisjoint(in_progress)
    if gap is None and not still_relevant:
        next_position = FeedPosition(after=after, floor=after)
    else:
        floors = [f for f in (gap, position.floor if still_relevant else None) if f is not None]
        next_position = FeedPosition(
            after=after, floor=min(floors), watch=in_progress, horizon=xmax_now
        )
    changes = [Change(*row) for row in [*late, *fresh]]
    return FeedPage(changes=changes, position=next_position, has_more=len(fresh) == limit)


async def dossier_by_external_id(
    session: AsyncSession, principal: Principal, source_system: str, external_id: str
) -> Dossier | None:
    """The dossier a client knows by (source system, its id), within what the client sees."""
    return await session.scalar(
        select(Dossier).where(
            Dossier.source_system == source_system,
            Dossier.external_id == external_id,
            visible_to(principal),
        )
    )


async def submitted_with_external_id(
    session: AsyncSession, source_system: str, external_id: str
) -> Dossier | None:
    """Any dossier submitted with this external id, whoever sees it (the caller decides what
    to say about one outside the client's scope)."""
    return await session.scalar(
        select(Dossier).where(
            Dossier.source_system == source_system, Dossier.external_id == external_id
        )
    )
