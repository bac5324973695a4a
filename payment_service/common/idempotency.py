"""``Idempotency-Key`` for creating POSTs: the same key and body give the first answer again;
the same key with another body gives 422. The key is claimed in the transaction that creates,
so a crash between the two leaves neither."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import IdempotencyKey
from shared.errors import Problem


def request_hash(body: BaseModel | dict[str, Any] | None, *scope: object) -> str:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return hashlib.sha256(
        orjson.dumps([data, [str(s) for s in scope]], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def _reused() -> Problem:
    return Problem(
        422,
        "idempotency-key-reused",
        "Idempotency key reused with another body",
        "Khóa chống gửi trùng đã dùng cho một yêu cầu khác",
    )


async def earlier_answer(
    session: AsyncSession, key: str | None, principal: str, operation: str, digest: str
) -> tuple[int, dict[str, Any]] | None:
    """The stored answer for this key, or None when the key is new (or absent)."""
    if not key:
        return None
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.key == key,
            IdempotencyKey.principal == principal,
            IdempotencyKey.operation == operation,
        )
    )
    if row is None:
        return None
    if row.request_hash != digest:
        raise _reused()
    return row.status_code, row.body


async def remember(
    session: AsyncSession,
    key: str | None,
    principal: str,
    operation: str,
    digest: str,
    status_code: int,
    body: dict[str, Any],
) -> bool:
    """Store the answer with the creation; False when a concurrent twin stored one first (the
    caller's transaction then rolls back and the twin's answer is replayed)."""
    if not key:
        return True
    inserted = await session.scalar(
        pg_insert(IdempotencyKey)
        .values(
            key=key,
            principal=principal,
            operation=operation,
            request_hash=digest,
            status_code=status_code,
            body=body,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    return inserted is not None


async def run_once(
    session: AsyncSession,
    key: str | None,
    principal: str,
    operation: str,
    digest: str,
    create: Callable[[], Awaitable[tuple[int, BaseModel]]],
) -> tuple[int, dict[str, Any]]:
    """Run ``create`` in one transaction with the key's claim; a retry gets the stored answer.
    Problems raised by ``create`` are not stored: a corrected retry may succeed.

    This owns its transactions instead of leaving the commit to the route: when a concurrent
    twin stored its answer first, ours must roll back whole and the twin's answer be read in a
    fresh transaction, which one commit at the end of the request cannot do. It is called
    before anything else touches the request's session, and leaves it with no transaction open,
    so the route's commit finds nothing (or only what a later step of the request did)."""
    try:
        async with session.begin():
            earlier = await earlier_answer(session, key, principal, operation, digest)
            if earlier is not None:
                return earlier
            try:
                status, model = await create()
            except Problem as problem:
                raise _Refused(problem) from None
            body = model.model_dump(mode="json")
            if await remember(session, key, principal, operation, digest, status, body):
                return status, body
            raise _TwinWon
    except _TwinWon:
        pass  # the twin's transaction committed the answer; ours rolled back whole
    except _Refused as refused:
        # A twin with the same key may have committed while we waited on its locks, and our
        # attempt then failed on the state it left: the twin's answer is the answer.
        if key:
            async with session.begin():
                earlier = await earlier_answer(session, key, principal, operation, digest)
            if earlier is not None:
                return earlier
        raise refused.problem from None
    async with session.begin():
        earlier = await earlier_answer(session, key, principal, operation, digest)
        assert earlier is not None
        return earlier


class _TwinWon(Exception):
    """A concurrent request with the same key stored its answer first."""


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem
