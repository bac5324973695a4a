"""Agencies: the catalogue's agencies as workflow keeps them (seeded from the shared reference
data, then kept current by ``AgencyChanged``), which one works a step, and which agencies an
officer belongs to (the token's ``agency`` claim and the memberships ops record)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.events.catalogue import AgencyChanged
from shared.reference import agency_rows, unit_rows
from workflow_service.agencies import repository
from workflow_service.agencies.errors import UnknownAgency
from workflow_service.agencies.schemas import MemberOut, MemberPage
from workflow_service.db.models import Agency, AgencyMember
from workflow_service.domain.assignment import serving


async def seed(session: AsyncSession) -> int:
    """Add the reference agencies the table lacks (all of them at first start, those the
    reference gained later afterwards); an agency the catalogue has since renamed or retired
    keeps what the catalogue said. Idempotent; returns how many were added."""
    units = unit_rows()
    paths = {u["code"]: u["path"] for u in units}
    rows = [
        {**row, "unit_path": paths[row["unit_code"]], "retired": False}
        for row in agency_rows(units)
    ]
    return await repository.insert_missing(session, rows)


async def agency_changed(session: AsyncSession, event: AgencyChanged, at: dt.datetime) -> None:
    """Keep the catalogue's entry; a redelivery or an older entry arriving late changes nothing."""
    await repository.upsert_newer(
        session,
        {
            "code": event.agency_code,
            "name": event.name,
            "kind": event.kind.value,
            "unit_code": event.unit_code,
            "unit_path": event.unit_path,
            "retired": event.retired,
        },
        at,
    )


async def agency_for(session: AsyncSession, agency_kind: str, unit_path: str) -> str | None:
    """The code of the agency working a step of ``agency_kind`` for the unit at ``unit_path``,
    or None when that unit has no such agency."""
    unit_code, kind = serving(agency_kind, unit_path)
    agency = await repository.of_unit(session, unit_code, kind)
    return agency.code if agency else None


async def agencies_for(
    session: AsyncSession, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """:func:`agency_for` of each (agency kind, unit path), read in one statement."""
    serving_of = {w: serving(*w) for w in set(wanted)}
    found = await repository.of_units(session, serving_of.values())
    return {w: found.get(s) for w, s in serving_of.items()}


async def require_active(session: AsyncSession, agency_code: str, field: str) -> Agency:
    """The agency, when the catalogue has it and has not retired it; otherwise 422."""
    agency = await repository.active(session, agency_code)
    if agency is None:
        raise UnknownAgency(agency_code, field)
    return agency


async def is_active(session: AsyncSession, agency_code: str) -> bool:
    return await repository.active(session, agency_code) is not None


async def names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    return await repository.names(session, codes)


async def one(session: AsyncSession, agency_code: str) -> Agency | None:
    return await repository.one(session, agency_code)


async def agencies_of(session: AsyncSession, principal: Principal) -> frozenset[str]:
    """The token's agency and every agency ops recorded the officer in."""
    recorded = await repository.recorded_agencies(session, principal.sub)
    if principal.agency:
        recorded.add(principal.agency)
    return frozenset(recorded)


async def members(
    session: AsyncSession, agency_code: str, limit: int, cursor: str | None
) -> MemberPage:
    rows, next_cursor = await repository.members(session, agency_code, limit, cursor)
    return MemberPage(items=[MemberOut.model_validate(m) for m in rows], next_cursor=next_cursor)


async def add_member(
    session: AsyncSession, agency_code: str, officer_sub: str, by: str, at: dt.datetime
) -> tuple[AgencyMember, bool]:
    await require_active(session, agency_code, "path.agency_code")
    return await repository.add_member(session, agency_code, officer_sub, by, at)


async def remove_member(session: AsyncSession, agency_code: str, officer_sub: str) -> None:
    await repository.remove_member(session, agency_code, officer_sub)
