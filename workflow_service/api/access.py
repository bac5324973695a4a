"""Which cases an officer may see: those of their unit's subtree; others do not exist for them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, unit_scope
from shared.errors import not_found
from workflow_service.db.models import Case


async def visible_case(session: AsyncSession, case_id: uuid.UUID, principal: Principal) -> Case:
    case = await session.scalar(
        select(Case).where(Case.id == case_id, unit_scope(Case.unit_path, principal))
    )
    if case is None:
        raise not_found("case", "hồ sơ xử lý")
    return case
