"""Submission by an integration client's own id (LGSP/NGSP, post office): a repeat of the same
(source system, external id) gets the dossier the first attempt created, whatever happened in
between; the same id with other content is a conflict.

The unique constraint on (source_system, external_id) is what decides between concurrent
repeats: the loser's insert fails and is answered as a repeat, so two dossiers never exist.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.schemas import DossierCreate
from intake_service.db.models import Dossier
from shared.auth import Principal
from shared.errors import Problem

UNIQUE_CONSTRAINT = "uq_dossiers_source_system"


def source_system_of(body: DossierCreate, principal: Principal) -> str | None:
    """Where the dossier comes from; the client's own account unless it relays for another."""
    if body.external_id is None:
        return None
    return body.source_system or principal.sub


def _conflict(detail: str, detail_vi: str) -> Problem:
    return Problem(
        409,
        "external-id-conflict",
        "This external id was already used for another dossier",
        "Mã hồ sơ của hệ thống gửi đã được dùng cho một hồ sơ khác",
        detail=detail,
        detail_vi=detail_vi,
    )


def _same_content(existing: Dossier, body: DossierCreate) -> bool:
    return (
        existing.procedure_key == body.procedure_key
        and existing.unit_code == body.unit_code
        and existing.channel == body.channel
        and existing.applicant == body.applicant.model_dump(mode="json")
        and existing.representative
        == (body.representative.model_dump(mode="json") if body.representative else None)
    )


async def earlier_submission(
    session: AsyncSession, principal: Principal, body: DossierCreate
) -> Dossier | None:
    """The dossier created by an earlier submission with this external id, if any."""
    source_system = source_system_of(body, principal)
    if source_system is None:
        return None
    existing = await session.scalar(
        select(Dossier).where(
            Dossier.source_system == source_system, Dossier.external_id == body.external_id
        )
    )
    if existing is None:
        return None
    mine = principal.covers(existing.unit_path) or existing.submitted_by == principal.sub
    if not mine:
        # Someone else's dossier: say nothing about it.
        raise _conflict(
            "The external id belongs to a dossier outside your scope",
            "Mã này thuộc một hồ sơ ngoài phạm vi của bạn",
        )
    if not _same_content(existing, body):
        raise _conflict(
            f"Dossier {existing.code} was submitted with this external id and other content",
            f"Hồ sơ {existing.code} đã được nộp với mã này nhưng nội dung khác",
        )
    return existing


def is_external_id_race(exc: IntegrityError) -> bool:
    """A concurrent submission with the same external id committed first."""
    return UNIQUE_CONSTRAINT in str(exc.orig)
