"""Which cases a principal may see (:func:`workflow_service.db.scope.case_scope`); others do
not exist for them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import not_found
from workflow_service.db.models import Case
from workflow_service.db.scope import case_scope


async def visible_case(session: AsyncSession, case_id: uuid.UUID, principal: Principal) -> Case:
    case = await session.scalar(select(Case).where(Case.id == case_id, case_scope(principal)))
    if case is None:
        raise not_found("case", "hồ sơ xử lý")
    return case
