"""Signed results: storing one beside its case, finding it by case (scoped to who asks) or by
hash."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from workflow_service.cases.repository import case_scope
from workflow_service.db.models import Case, SignedResult


def add(session: AsyncSession, result: SignedResult) -> None:
    session.add(result)


async def visible(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal
) -> tuple[SignedResult, str] | None:
    """The signed result of a case the principal may see, with the case's dossier code."""
    row = (
        await session.execute(
            select(SignedResult, Case.dossier_code)
            .join(Case, Case.id == SignedResult.case_id)
            .where(SignedResult.case_id == case_id, case_scope(principal))
        )
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class KnownResult:
    case_id: uuid.UUID
    dossier_code: str
    signed_at: dt.datetime


async def by_hash(session: AsyncSession, sha256: str) -> KnownResult | None:
    """The case whose stored result has exactly this hash."""
    row = (
        await session.execute(
            select(SignedResult.case_id, Case.dossier_code, SignedResult.signed_at)
            .join(Case, Case.id == SignedResult.case_id)
            .where(SignedResult.sha256 == sha256)
            .limit(1)
        )
    ).first()
    return KnownResult(row[0], row[1], row[2]) if row else None
