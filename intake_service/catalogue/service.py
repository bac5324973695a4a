"""The catalogue's use cases: reading is public; adding, changing and retiring a procedure is for
ops and never loses history (a change makes a new version; dossiers keep the one they were
received under). Every change is published as ``ProcedurePublished`` in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.catalogue import repository
from intake_service.catalogue.errors import (
    KeyMismatch,
    ProcedureExists,
    ProcedureNotFound,
    ProcedureVersionNotFound,
)
from intake_service.catalogue.schemas import (
    ProcedureDetail,
    ProcedureIn,
    ProcedureOut,
    ProcedurePage,
)
from intake_service.db.models import Procedure, ProcedureVersion
from intake_service.domain.procedure_rules import ProcedureRules
from intake_service.reference.cache import ReferenceCache, invalidate_on_commit
from shared.auth import Principal, Role, ensure_roles
from shared.events import ProcedurePublished
from shared.http.preconditions import expected_version, precondition_failed
from shared.messaging.outbox import Outbox
from shared.vocabulary import Channel


def published(procedure: Procedure, *, retired: bool = False) -> ProcedurePublished:
    """The catalogue entry as other services learn it, its rules read once."""
    rules = ProcedureRules.of(procedure.data)
    route = procedure.data.get("route")
    return ProcedurePublished(
        procedure_key=procedure.key,
        code=procedure.code,
        name=procedure.name,
        field=procedure.field,
        version=procedure.version,
        processing_working_days=rules.processing.working_days,
        processing_working_hours=rules.processing.working_hours,
        fee_amount_vnd=rules.fee_amount(Channel.direct),
        route=route if isinstance(route, list) else None,
        retired=retired,
    )


async def _publish(
    session: AsyncSession, outbox: Outbox, procedure: Procedure, *, retired: bool = False
) -> None:
    await outbox.add(session, published(procedure, retired=retired), subject=procedure.key)


def _detail(row: ProcedureVersion) -> ProcedureDetail:
    return ProcedureDetail(
        key=row.key,
        version=row.version,
        data=row.data,
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def list_procedures(
    session: AsyncSession,
    *,
    field: str | None,
    include_retired: bool,
    cursor: str | None,
    limit: int,
) -> ProcedurePage:
    rows, next_cursor = await repository.page(
        session, field=field, include_retired=include_retired, cursor=cursor, limit=limit
    )
    return ProcedurePage(
        items=[ProcedureOut.model_validate(p) for p in rows], next_cursor=next_cursor
    )


async def read_version(session: AsyncSession, key: str, version: int) -> ProcedureDetail:
    row = await repository.get_version(session, key, version)
    if row is None:
        raise ProcedureVersionNotFound()
    return _detail(row)


async def read_procedure(session: AsyncSession, key: str) -> ProcedureDetail:
    """The current version of a procedure, in full."""
    procedure = await repository.get(session, key)
    if procedure is None:
        raise ProcedureNotFound()
    return await read_version(session, key, procedure.version)


def _entry(body: ProcedureIn) -> dict[str, Any]:
    return repository.procedure_row(body.model_dump(mode="json", exclude_none=True))


async def create_procedure(
    session: AsyncSession,
    outbox: Outbox,
    cache: ReferenceCache,
    principal: Principal,
    body: ProcedureIn,
    now: dt.datetime,
) -> ProcedureDetail:
    ensure_roles(principal, Role.ops)
    row = _entry(body)
    if await repository.get(session, body.key) is not None:
        raise ProcedureExists(
            detail=f"procedure {body.key} exists; change it with PUT",
            detail_vi=f"thủ tục {body.key} đã có",
        )
    procedure = repository.add(session, row)
    version = repository.add_version(session, body.key, 1, row["data"], principal.sub, now)
    await _publish(session, outbox, procedure)
    await session.flush()
    invalidate_on_commit(session, cache)
    return _detail(version)


async def update_procedure(
    session: AsyncSession,
    outbox: Outbox,
    cache: ReferenceCache,
    principal: Principal,
    key: str,
    body: ProcedureIn,
    if_match: str | None,
    now: dt.datetime,
) -> ProcedureDetail:
    """A change makes a new version; the caller must name the version it read (``If-Match``)."""
    ensure_roles(principal, Role.ops)
    if body.key != key:
        raise KeyMismatch()
    row = _entry(body)
    current = await repository.get(session, key, for_update=True)
    if current is None:
        raise ProcedureNotFound()
    if expected_version(if_match) != current.version:
        raise precondition_failed()
    version = current.version + 1
    for name, value in row.items():
        setattr(current, name, value)
    current.version = version
    stored = repository.add_version(session, key, version, row["data"], principal.sub, now)
    await _publish(session, outbox, current)
    await session.flush()
    invalidate_on_commit(session, cache)
    return _detail(stored)


async def retire_procedure(
    session: AsyncSession,
    outbox: Outbox,
    cache: ReferenceCache,
    principal: Principal,
    key: str,
    now: dt.datetime,
) -> ProcedureOut:
    """No new dossiers from now on; those received keep their version, and every version stays
    readable. Retiring a retired procedure changes nothing and publishes nothing."""
    ensure_roles(principal, Role.ops)
    procedure = await repository.get(session, key, for_update=True)
    if procedure is None:
        raise ProcedureNotFound()
    if procedure.retired_at is None:
        procedure.retired_at = now
        await _publish(session, outbox, procedure, retired=True)
        await session.flush()
        # Refused by this replica's next submission, before the client hears of the change.
        invalidate_on_commit(session, cache)
    return ProcedureOut.model_validate(procedure)
