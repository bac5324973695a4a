"""Route templates: which route a case follows, where on it a step stands, keeping the versions
the catalogue publishes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import ProcedurePublished
from shared.reference import seed_procedures
from shared.routes import RouteTemplate
from workflow_service.db.models import Case, Step
from workflow_service.domain.authority import StepView
from workflow_service.routes import repository
from workflow_service.routes.errors import RouteNotFound
from workflow_service.routes.schemas import RouteOut


async def seed(session: AsyncSession) -> int:
    """Load the seed catalogue's routes (version 1 each) into an empty table; idempotent."""
    if await repository.count(session):
        return 0
    rows: list[dict[str, Any]] = [
        {
            "procedure_key": p["key"],
            "version": 1,
            "steps": RouteTemplate.from_dicts(p["key"], 1, p["route"]).to_dicts(),
            "created_by": "seed",
        }
        for p in seed_procedures()
        if p.get("route")
    ]
    await repository.insert_many(session, rows)
    return len(rows)


async def route_versions(session: AsyncSession, procedure_key: str) -> list[RouteOut]:
    """The procedure's route versions, newest first (a handful: published by hand); 404 when
    it has none."""
    rows = await repository.versions(session, procedure_key)
    if not rows:
        raise RouteNotFound()
    return [RouteOut.model_validate(r) for r in rows]


async def routes_for(
    session: AsyncSession, procedure_keys: Iterable[str | None]
) -> dict[str | None, RouteTemplate]:
    """The newest route of each procedure, or the one-agency route for one that has none (or
    no key), read in one statement."""
    keys = set(procedure_keys)
    rows = await repository.newest_of(session, (k for k in keys if k))
    out: dict[str | None, RouteTemplate] = {}
    for key in keys:
        row = rows.get(key) if key else None
        out[key] = (
            RouteTemplate.from_dicts(row.procedure_key, row.version, row.steps)
            if row is not None
            else RouteTemplate.single_agency(key or "unknown", 0)
        )
    return out


async def route_of_case(session: AsyncSession, case: Case) -> RouteTemplate:
    if case.procedure_key and case.route_version:
        row = await repository.one(session, case.procedure_key, case.route_version)
        if row is not None:
            return RouteTemplate.from_dicts(case.procedure_key, row.version, row.steps)
    return RouteTemplate.single_agency(case.procedure_key or "unknown", 0)


def step_view(route: RouteTemplate, step: Step) -> StepView:
    """What the authority table needs of the case's current step."""
    try:
        deciding = route.is_deciding(step.name)
    except (KeyError, ValueError):
        # A step of a route version that no longer names it (never expected): not deciding.
        deciding = False
    return StepView(
        role=step.role,
        agency_code=step.agency_code,
        deciding=deciding,
        claimed_by=step.claimed_by,
        assignee=step.assignee,
    )


async def procedure_published(session: AsyncSession, event: ProcedurePublished) -> None:
    """Keep what workflow needs of a published procedure: its route, and whether its time is
    counted in working hours."""
    await repository.keep_hours(
        session, event.procedure_key, event.version, event.processing_working_hours
    )
    if event.route:
        await store_route(session, event.procedure_key, event.version, event.route, "catalogue")


async def working_hours_of(
    session: AsyncSession, procedure_keys: Iterable[str | None]
) -> dict[str, float | None]:
    """The processing time in working hours of each procedure the catalogue times so, read in
    one statement (a procedure absent is not timed in hours)."""
    return await repository.hours_of(session, (k for k in procedure_keys if k))


async def store_route(
    session: AsyncSession,
    procedure_key: str,
    version: int,
    steps: list[dict[str, Any]],
    created_by: str | None,
) -> bool:
    """Keep a published route version; a redelivered one changes nothing."""
    template = RouteTemplate.from_dicts(procedure_key, version, steps)
    return await repository.insert(session, procedure_key, version, template.to_dicts(), created_by)
