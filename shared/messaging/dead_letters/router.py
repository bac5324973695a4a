"""Ops API over a service's dead letters: list them, and replay one once its cause is fixed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require_roles

# Ids are BIGINT: a larger number cannot name a row, and the driver would refuse to send it.
from shared.bounds import BIGINT_MAX
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.messaging.dead_letters import service
from shared.messaging.dead_letters.errors import DeadLetterNotFound, NotReplayable, ReplayFailed
from shared.messaging.dead_letters.schemas import DeadLetter, DeadLetterPage
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(
    prefix="/v1/ops/dead-letters",
    tags=["ops"],
    responses=PROBLEM_RESPONSES,
    route_class=CommitRoute,
)


@router.get(
    "",
    summary="List dead letters",
    description="Sự kiện không xử lý được (hàng đợi lỗi), mới nhất trước; phân trang bằng con trỏ.",
    response_model=DeadLetterPage,
)
async def list_dead_letters(
    _: Annotated[Principal, Depends(require_roles("ops"))],
    session: Annotated[AsyncSession, Depends(db_session)],
    runtime: Annotated[Runtime, Depends(runtime_of)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="id of the last item already seen")
    ] = None,
    pending_only: bool = False,
) -> DeadLetterPage:
    return await service.list_letters(
        session, runtime, cursor=cursor, limit=limit, pending_only=pending_only
    )


@router.post(
    "/{dead_letter_id}/replay",
    summary="Replay a dead letter",
    description="Xử lý lại một sự kiện lỗi sau khi đã khắc phục nguyên nhân. Sự kiện đã áp dụng "
    "rồi sẽ không áp dụng lần hai.",
    response_model=DeadLetter,
    responses=problem_responses(DeadLetterNotFound, NotReplayable, ReplayFailed),
)
async def replay_dead_letter(
    dead_letter_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    _: Annotated[Principal, Depends(require_roles("ops"))],
    session: Annotated[AsyncSession, Depends(db_session)],
    runtime: Annotated[Runtime, Depends(runtime_of)],
) -> DeadLetter:
    return await service.replay(session, runtime, dead_letter_id)
