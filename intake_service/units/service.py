"""Units and agencies: reading is public; adding, renaming and retiring is for ops. Nothing is
deleted, so dossiers and history keep their unit and agency.

Intake owns the agencies: every creation, rename and retirement is published as
``AgencyChanged`` (the agency's whole entry) in the same transaction, so workflow assigns and
transfers steps to real agencies and prints their current names. The agencies seeded from
``shared.reference`` are not published: workflow seeds the same list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Agency, Unit
from intake_service.reference.cache import ReferenceCache, invalidate_on_commit
from intake_service.units import repository
from intake_service.units.errors import (
    AgencyExists,
    AgencyNotFound,
    UnitConflict,
    UnitNotFound,
    UnknownParentUnit,
    UnknownUnit,
)
from intake_service.units.schemas import (
    AgencyIn,
    AgencyOut,
    AgencyPage,
    AgencyRename,
    UnitIn,
    UnitOut,
    UnitPage,
)
from shared.auth import Principal, Role, ensure_roles
from shared.events import AgencyChanged
from shared.events.catalogue import agency_key
from shared.messaging.outbox import Outbox
from shared.vocabulary import AgencyKind

# --- units -----------------------------------------------------------------------------------


async def list_units(
    session: AsyncSession,
    *,
    parent_code: str | None,
    include_retired: bool,
    cursor: str | None,
    limit: int,
) -> UnitPage:
    rows, next_cursor = await repository.unit_page(
        session,
        parent_code=parent_code,
        include_retired=include_retired,
        cursor=cursor,
        limit=limit,
    )
    return UnitPage(items=[UnitOut.model_validate(u) for u in rows], next_cursor=next_cursor)


async def create_unit(
    session: AsyncSession, cache: ReferenceCache, principal: Principal, body: UnitIn
) -> UnitOut:
    """A unit at any depth; its path is its parent's path and its own code."""
    ensure_roles(principal, Role.ops)
    if await repository.get_unit(session, body.code) is not None:
        raise UnitConflict(detail=f"unit {body.code} exists", detail_vi=f"đơn vị {body.code} đã có")
    path = body.code
    if body.parent_code:
        parent = await repository.active_unit(session, body.parent_code)
        if parent is None:
            raise UnknownParentUnit()
        path = f"{parent.path}.{body.code}"
    unit = repository.add_unit(session, body.code, body.name, body.level, body.parent_code, path)
    await session.flush()
    invalidate_on_commit(session, cache)
    return UnitOut.model_validate(unit)


async def retire_unit(
    session: AsyncSession, cache: ReferenceCache, principal: Principal, code: str, now: dt.datetime
) -> UnitOut:
    """Only a unit without active children; its dossiers and history stay readable."""
    ensure_roles(principal, Role.ops)
    unit = await repository.get_unit(session, code, for_update=True)
    if unit is None:
        raise UnitNotFound()
    if await repository.active_children(session, code):
        raise UnitConflict(
            detail="retire the unit's active children first",
            detail_vi="cần ngừng hoạt động các đơn vị cấp dưới trước",
        )
    unit.retired_at = unit.retired_at or now
    await session.flush()
    # Refused by this replica's next submission, before the client hears of the change. Units
    # have no event on the catalogue topic: other replicas see the change within the cache's
    # TTL (or at once, for a unit they have never cached).
    invalidate_on_commit(session, cache)
    return UnitOut.model_validate(unit)


# --- agencies --------------------------------------------------------------------------------


def agency_changed(agency: Agency, unit: Unit) -> AgencyChanged:
    return AgencyChanged(
        agency_code=agency.code,
        name=agency.name,
        kind=AgencyKind(agency.kind),
        unit_code=agency.unit_code,
        unit_path=unit.path,
        retired=agency.retired_at is not None,
    )


async def _publish(session: AsyncSession, outbox: Outbox, agency: Agency, unit: Unit) -> None:
    await outbox.add(session, agency_changed(agency, unit), subject=agency_key(agency.code))


async def _unit_of(session: AsyncSession, agency: Agency) -> Unit:
    unit = await repository.get_unit(session, agency.unit_code)
    assert unit is not None, "an agency's unit is never deleted"
    return unit


async def list_agencies(
    session: AsyncSession,
    *,
    unit_code: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> AgencyPage:
    rows, next_cursor = await repository.agency_page(
        session, unit_code=unit_code, kind=kind, cursor=cursor, limit=limit
    )
    return AgencyPage(items=[AgencyOut.model_validate(a) for a in rows], next_cursor=next_cursor)


async def read_agency(session: AsyncSession, code: str) -> AgencyOut:
    agency = await repository.get_agency(session, code)
    if agency is None:
        raise AgencyNotFound()
    return AgencyOut.model_validate(agency)


async def create_agency(
    session: AsyncSession, outbox: Outbox, principal: Principal, body: AgencyIn
) -> AgencyOut:
    """An agency of an active unit, published at once."""
    ensure_roles(principal, Role.ops)
    if await repository.get_agency(session, body.code) is not None:
        raise AgencyExists(
            detail=f"agency {body.code} exists", detail_vi=f"cơ quan {body.code} đã có"
        )
    unit = await repository.active_unit(session, body.unit_code)
    if unit is None:
        raise UnknownUnit()
    agency = repository.add_agency(session, body.code, body.name, body.kind, body.unit_code)
    await session.flush()
    await _publish(session, outbox, agency, unit)
    return AgencyOut.model_validate(agency)


async def rename_agency(
    session: AsyncSession, outbox: Outbox, principal: Principal, code: str, body: AgencyRename
) -> AgencyOut:
    """A new name for an agency, retired or not; workflow prints it from then on."""
    ensure_roles(principal, Role.ops)
    agency = await repository.get_agency(session, code, for_update=True)
    if agency is None:
        raise AgencyNotFound()
    if agency.name != body.name:
        agency.name = body.name
        await session.flush()
        await _publish(session, outbox, agency, await _unit_of(session, agency))
    return AgencyOut.model_validate(agency)


async def retire_agency(
    session: AsyncSession, outbox: Outbox, principal: Principal, code: str, now: dt.datetime
) -> AgencyOut:
    """No new steps go to a retired agency; its history stays. Retiring it again publishes
    nothing."""
    ensure_roles(principal, Role.ops)
    agency = await repository.get_agency(session, code, for_update=True)
    if agency is None:
        raise AgencyNotFound()
    if agency.retired_at is None:
        agency.retired_at = now
        await session.flush()
        await _publish(session, outbox, agency, await _unit_of(session, agency))
    return AgencyOut.model_validate(agency)
