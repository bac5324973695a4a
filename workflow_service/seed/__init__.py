"""Reference data every fresh database starts with: the route templates of the project's seed
catalogue and the agencies of every unit, both from :mod:`shared.reference`.

Later route versions arrive as ``ProcedurePublished`` events on the catalogue topic, agency
changes as ``AgencyChanged``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from workflow_service.agencies import service as agencies
from workflow_service.routes import service as routes


async def load_route_templates(session: AsyncSession) -> int:
    """Idempotent: loads only into an empty table."""
    return await routes.seed(session)


async def load_agencies(session: AsyncSession) -> int:
    """Idempotent: adds the reference agencies the table lacks."""
    return await agencies.seed(session)


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    return {
        "route_templates": await load_route_templates(session),
        "workflow_agencies": await load_agencies(session),
    }
