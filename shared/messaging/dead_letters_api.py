"""Ops API over a service's dead letters: list them, and replay one once its cause is fixed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require_roles

# Ids are BIGINT: a larger number cannot name a row, and the driver would refuse to send it.
from shared.bounds import BIGINT_MAX
from shared.errors import PROBLEM_RESPONSES, Problem, conflict, not_found
from shared.events.envelope import MalformedEvent, decode
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(prefix="/v1/ops/dead-letters", tags=["ops"], responses=PROBLEM_RESPONSES)


class DeadLetter(BaseModel):
    id: int
    group_id: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    error: str = Field(description="lỗi khiến sự kiện không xử lý được")
    attempts: int
    created_at: dt.datetime
    replayed_at: dt.datetime | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    next_cursor: str | None


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
    table = runtime.tables.dead_letters
    query = select(table).order_by(table.c.id.desc()).limit(limit + 1)
    if cursor is not None:
        query = query.where(table.c.id < cursor)
    if pending_only:
        query = query.where(table.c.replayed_at.is_(None))
    rows = (await session.execute(query)).mappings().all()
    items = [DeadLetter.model_validate(dict(r)) for r in rows[:limit]]
    return DeadLetterPage(
        items=items, next_cursor=str(items[-1].id) if len(rows) > limit and items else None
    )


@router.post(
    "/{dead_letter_id}/replay",
    summary="Replay a dead letter",
    description="Xử lý lại một sự kiện lỗi sau khi đã khắc phục nguyên nhân. Sự kiện đã áp dụng "
    "rồi sẽ không áp dụng lần hai.",
    response_model=DeadLetter,
)
async def replay_dead_letter(
    dead_letter_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    _: Annotated[Principal, Depends(require_roles("ops"))],
    session: Annotated[AsyncSession, Depends(db_session)],
    runtime: Annotated[Runtime, Depends(runtime_of)],
) -> DeadLetter:
    table = runtime.tables.dead_letters
    row = (
        (await session.execute(select(table).where(table.c.id == dead_letter_id)))
        .mappings()
        .first()
    )
    await session.rollback()
    if row is None:
        raise not_found("dead letter", "sự kiện lỗi")
    headers = [(k, str(v).encode()) for k, v in (row["headers"] or {}).items()]
    key = row["key"].encode() if row["key"] else None
    try:
        env = decode(key, row["value"], headers, row["topic"])
    except MalformedEvent as exc:
        raise conflict(
            f"the event is malformed and cannot be replayed: {exc}",
            "sự kiện sai định dạng, không thể xử lý lại",
        ) from exc
    consumer = runtime.consumer
    handler = consumer.handler_for(env.type) if consumer else None
    if consumer is None or handler is None:
        raise conflict(
            "this service has no handler for the event type", "dịch vụ không xử lý loại sự kiện này"
        )
    try:
        await consumer.apply(env, handler)
    except Exception as exc:
        raise Problem(
            409,
            "replay-failed",
            "Replay failed",
            "Xử lý lại không thành công",
            detail=repr(exc)[:500],
        ) from exc
    async with session.begin():
        await session.execute(
            update(table)
            .where(table.c.id == dead_letter_id)
            .values(replayed_at=dt.datetime.now(dt.UTC))
        )
    updated = (
        (await session.execute(select(table).where(table.c.id == dead_letter_id))).mappings().one()
    )
    return DeadLetter.model_validate(dict(updated))
