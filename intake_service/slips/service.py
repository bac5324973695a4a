"""A dossier's slip: whoever may see the dossier may see its slips; the slip is built from the
dossier and the action of its log that issued it (:mod:`intake_service.domain.slips`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain import slips
from intake_service.domain.slips import (
    AttachedDocument,
    DossierSnapshot,
    ProcedureSnapshot,
    ReceiptSlip,
    RefusalSlip,
    SlipKind,
    SupplementRequestSlip,
    UnitSnapshot,
)
from intake_service.slips import repository
from intake_service.slips.errors import DossierNotFound, SlipNotIssued
from shared.auth import Principal


async def slip(
    session: AsyncSession, principal: Principal, code: str, kind: SlipKind, lookup_base_url: str
) -> ReceiptSlip | SupplementRequestSlip | RefusalSlip:
    dossier = await repository.visible_dossier(session, code, principal)
    if dossier is None:
        raise DossierNotFound()
    procedure = await repository.procedure_as_received(session, dossier)
    history = await repository.history(session, dossier.id)
    unit = await repository.unit(session, dossier.unit_code)
    documents = await repository.documents_of(session, dossier.id)
    try:
        return slips.build_slip(
            kind,
            DossierSnapshot(
                code=dossier.code,
                status=dossier.status,
                channel=dossier.channel,
                applicant=dossier.applicant,
                fee_amount_vnd=dossier.fee_amount_vnd,
                received_at=dossier.received_at,
                appointment_at=dossier.appointment_at,
                representative=dossier.representative,
            ),
            ProcedureSnapshot(
                key=procedure.key,
                code=procedure.code,
                name=procedure.name,
                version=procedure.version,
                processing_working_days=procedure.processing_working_days,
                data=procedure.data,
            ),
            history,
            UnitSnapshot(code=unit.code, name=unit.name, level=unit.level),
            lookup_base_url,
            [AttachedDocument(component=d.component, digitised=d.digitised) for d in documents],
        )
    except slips.SlipNotIssued as exc:
        raise SlipNotIssued(exc.kind, exc.status) from exc
