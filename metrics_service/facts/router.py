"""What metrics knows of one dossier."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import DossierFact
from metrics_service.facts import service
from metrics_service.facts.errors import FactNotFound
from metrics_service.facts.schemas import FactOut
from shared.auth import Principal, current_principal
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.runtime import db_session

router = APIRouter(
    prefix="/v1", tags=["indicators"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


@router.get(
    "/facts/{dossier_id}",
    response_model=FactOut,
    summary="What metrics knows of a dossier",
    description="Dữ kiện của một hồ sơ mà dịch vụ chỉ số đã ghi nhận.",
    responses=problem_responses(FactNotFound),
)
async def get_fact(
    dossier_id: uuid.UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> DossierFact:
    return await service.fact_of(session, principal, dossier_id)
