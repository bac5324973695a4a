"""The integration use cases: follow the change feed, read a dossier by the client's own id,
and recognise a repeated submission by external id (LGSP/NGSP, post office).

A repeat of the same (source system, external id) gets the dossier the first attempt created,
whatever happened in between; the same id with other content is a conflict. The unique
constraint on (source_system, external_id) decides between concurrent repeats: the loser's
insert fails and is answered as a repeat, so two dossiers never exist."""

from __future__ import annotations

import base64
import binascii

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier
from intake_service.domain.lifecycle import STATUS_LABELS_VI, DossierStatus
from intake_service.domain.national_status import national_status
from intake_service.dossiers import repository as dossiers
from intake_service.dossiers.errors import DossierNotFound
from intake_service.dossiers.schemas import DossierCreate, DossierOut, dossier_out
from intake_service.integration import repository
from intake_service.integration.errors import BadFeedCursor, ExternalIdConflict
from intake_service.integration.repository import Change, FeedPosition
from intake_service.integration.schemas import ChangeOut, ChangePage
from shared.auth import Principal
from shared.bounds import BIGINT_MAX

UNIQUE_CONSTRAINT = "uq_dossiers_source_system"
_CURSOR_VERSION = 1


# --- The change feed ------------------------------------------------------------------------


def encode_cursor(position: FeedPosition) -> str:
    doc: dict[str, object] = {"v": _CURSOR_VERSION, "a": position.after}
    if position.watch or position.horizon is not None:
        doc |= {"f": position.floor, "w": sorted(position.watch), "h": position.horizon}
    return base64.urlsafe_b64encode(orjson.dumps(doc)).decode().rstrip("=")


def decode_cursor(cursor: str) -> FeedPosition:
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(doc, dict) or doc.get("v") != _CURSOR_VERSION:
            raise ValueError("unknown cursor version")
        after = int(doc["a"])
        watch = frozenset(int(x) for x in doc.get("w", ()))
        horizon = doc.get("h")
        position = FeedPosition(
            after=after,
            floor=int(doc.get("f", after)),
            watch=watch,
            horizon=None if horizon is None else int(horizon),
        )
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise BadFeedCursor() from exc
    if position.after < 0 or position.floor < 0 or position.floor > position.after + 1:
        raise BadFeedCursor()
    # Positions are BIGINT sequence values; a larger one names nothing and cannot be sent.
    if max(position.after, position.floor, position.horizon or 0, *position.watch, 0) > BIGINT_MAX:
        raise BadFeedCursor()
    return position


def change_out(change: Change) -> ChangeOut:
    national = national_status(change.to_status)
    try:
        label = STATUS_LABELS_VI[DossierStatus(change.to_status)]
    except ValueError:
        label = change.to_status
    return ChangeOut(
        dossier_id=change.dossier_id,
        dossier_code=change.dossier_code,
        source_system=change.source_system,
        external_id=change.external_id,
        unit_code=change.unit_code,
        action=change.action,
        from_status=change.from_status,
        status=change.to_status,
        status_label_vi=label,
        national_status_code=national.code if national else None,
        national_status_name=national.name if national else None,
        at=change.at,
    )


async def changes(
    session: AsyncSession, principal: Principal, after: str | None, limit: int
) -> ChangePage:
    """One page of the status changes in the client's units after its cursor."""
    position = decode_cursor(after) if after else FeedPosition()
    page = await repository.read_changes(session, principal, position, limit)
    return ChangePage(
        items=[change_out(c) for c in page.changes],
        next_cursor=encode_cursor(page.position),
        has_more=page.has_more,
    )


async def dossier_by_external_id(
    session: AsyncSession, principal: Principal, source_system: str, external_id: str
) -> DossierOut:
    """The dossier with its history, as ``GET /v1/dossiers/{code}`` gives it; 404 outside the
    client's scope."""
    dossier = await repository.dossier_by_external_id(
        session, principal, source_system, external_id
    )
    if dossier is None:
        raise DossierNotFound()
    procedure = await dossiers.procedure(session, dossier.procedure_key)
    assert procedure is not None
    return dossier_out(dossier, procedure, await dossiers.history(session, dossier.id))


# --- Submission by external id ----------------------------------------------------------------


def source_system_of(body: DossierCreate, principal: Principal) -> str | None:
    """Where the dossier comes from; the client's own account unless it relays for another."""
    if body.external_id is None:
        return None
    return body.source_system or principal.sub


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
    if source_system is None or body.external_id is None:
        return None
    existing = await repository.submitted_with_external_id(session, source_system, body.external_id)
    if existing is None:
        return None
    mine = principal.covers(existing.unit_path) or existing.submitted_by == principal.sub
    if not mine:
        # Someone else's dossier: say nothing about it.
        raise ExternalIdConflict(
            detail="The external id belongs to a dossier outside your scope",
            detail_vi="Mã này thuộc một hồ sơ ngoài phạm vi của bạn",
        )
    if not _same_content(existing, body):
        raise ExternalIdConflict(
            detail=f"Dossier {existing.code} was submitted with this external id and other content",
            detail_vi=f"Hồ sơ {existing.code} đã được nộp với mã này nhưng nội dung khác",
        )
    return existing


def is_external_id_race(exc: IntegrityError) -> bool:
    """A concurrent submission with the same external id committed first."""
    return UNIQUE_CONSTRAINT in str(exc.orig)
