"""Reference data every fresh database starts with: the route templates of the project's seed
catalogue and the agencies of every unit, both from :mod:`shared.reference`.

Later route versions arrive as ``ProcedurePublished`` events on the catalogue topic, agency
changes as ``AgencyChanged``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.reference import seed_procedures
from shared.routes import RouteTemplate
from workflow_service.agencies import service as agencies
from workflow_service.db.models import RouteTemplateRow


async def load_route_templates(session: AsyncSession) -> int:
    """Idempotent: loads only into an empty table."""
    if await session.scalar(select(func.count()).select_from(RouteTemplateRow)):
        return 0
    rows = [
        {
            "procedure_key": p["key"],
            "version": 1,
            "steps": RouteTemplate.from_dicts(p["key"], 1, p["route"]).to_dicts(),
            "created_by": "seed",
        }
        for p in seed_procedures()
        if p.get("route")
    ]
    if rows:
        await session.execute(pg_insert(RouteTemplateRow).on_conflict_do_nothing(), rows)
    return len(rows)


async def load_agencies(session: AsyncSession) -> int:
    """Idempotent: loads only into an empty table."""
    return await agencies.seed(session)


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    return {
        "route_templates": await load_route_templates(session),
        "workflow_agencies": await load_agencies(session),
    }
