"""Listing and replaying a service's dead letters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.envelope import MalformedEvent, decode
from shared.messaging.dead_letters import repository
from shared.messaging.dead_letters.errors import DeadLetterNotFound, NotReplayable, ReplayFailed
from shared.messaging.dead_letters.schemas import DeadLetter, DeadLetterPage
from shared.runtime import Runtime


async def list_letters(
    session: AsyncSession,
    runtime: Runtime,
    *,
    cursor: int | None,
    limit: int,
    pending_only: bool,
) -> DeadLetterPage:
    table = runtime.tables.dead_letters
    after = None if cursor is None else str(cursor)
    rows = await repository.page(session, table, after, limit, pending_only=pending_only)
    items, next_cursor = repository.order(table).page(rows, limit, lambda r: (r["id"],))
    return DeadLetterPage(
        items=[DeadLetter.model_validate(dict(r)) for r in items], next_cursor=next_cursor
    )


async def replay(session: AsyncSession, runtime: Runtime, dead_letter_id: int) -> DeadLetter:
    """Apply the letter's event again through the consumer (which runs its own transaction and
    inbox, so an event applied already is not applied twice), then mark the letter replayed."""
    table = runtime.tables.dead_letters
    row = await repository.get(session, table, dead_letter_id)
    # End the read before the consumer's own transaction, so this session holds no snapshot
    # (nor a connection idle in a transaction) while the handler runs.
    await session.rollback()
    if row is None:
        raise DeadLetterNotFound()
    headers = [(k, str(v).encode()) for k, v in (row["headers"] or {}).items()]
    key = row["key"].encode() if row["key"] else None
    try:
        env = decode(key, row["value"], headers, row["topic"])
    except MalformedEvent as exc:
        raise NotReplayable(
            detail=f"the event is malformed and cannot be replayed: {exc}",
            detail_vi="sự kiện sai định dạng, không thể xử lý lại",
        ) from exc
    consumer = runtime.consumer
    handler = consumer.handler_for(env.type) if consumer else None
    if consumer is None or handler is None:
        raise NotReplayable(
            detail="this service has no handler for the event type",
            detail_vi="dịch vụ không xử lý loại sự kiện này",
        )
    try:
        await consumer.apply(env, handler)
    except Exception as exc:
        raise ReplayFailed(detail=repr(exc)[:500]) from exc
    await repository.mark_replayed(session, table, dead_letter_id, dt.datetime.now(dt.UTC))
    updated = await repository.get(session, table, dead_letter_id)
    assert updated is not None
    return DeadLetter.model_validate(dict(updated))
