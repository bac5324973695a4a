"""Public lookup (tra cứu hồ sơ): anyone with the dossier code and the last four digits of the
applicant's ID or phone number sees the status and the history. No login.

An unknown code and a wrong verifier answer with the same 404, so the lookup cannot be used to
find out which codes exist; wrong verifiers count against the guessing address on that code
whether it exists or not, and never lock the owner out (see domain/rate_limit.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier
from intake_service.domain.documents import AUDIT_LABELS_VI
from intake_service.domain.lifecycle import ACTION_LABELS_VI, STATUS_LABELS_VI
from intake_service.domain.payments_view import figures
from intake_service.domain.rate_limit import LookupLimits
from intake_service.domain.verifier import verifier_matches
from intake_service.lookup import repository
from intake_service.lookup.errors import LookupLocked, LookupNotFound, TooManyLookups
from intake_service.lookup.schemas import LookupOut, LookupPayments, LookupStep

# Steps recorded outside the desk's lifecycle table still need a name a citizen understands.
_OTHER_ACTION_LABELS_VI: dict[str, str] = {
    "submit": "Nộp hồ sơ",
    "start_processing": "Bắt đầu xử lý",
    **{str(action): label for action, label in AUDIT_LABELS_VI.items()},
}


def _label(labels: Mapping[Any, str], key: str) -> str | None:
    # The labels are keyed by StrEnum members, which a plain string finds.
    return labels.get(key)


@dataclass
class LookupGuard:
    """The lookup's limits (see :mod:`intake_service.domain.rate_limit`), shared by the public
    lookup, the consent given through it and the QR rating, which take the same credential."""

    limits: LookupLimits

    async def admit(self, client: str, code: str) -> None:
        refusal = await self.limits.admit(client, code)
        if refusal is None:
            return
        if refusal.reason == "rate":
            raise TooManyLookups(refusal.retry_after)
        raise LookupLocked(refusal.retry_after)

    async def verified_dossier(
        self, session: AsyncSession, client: str, code: str, verifier: str
    ) -> Dossier:
        """The dossier when the code and the verifier match, else the one 404 for everything."""
        await self.admit(client, code)
        dossier = await repository.dossier_by_code(session, code)
        matches = verifier_matches(
            verifier,
            dossier.applicant_id_number if dossier else None,
            dossier.applicant.get("phone") if dossier else None,
        )
        if dossier is None or not matches:
            await self.limits.failed(client, code)
            raise LookupNotFound()
        return dossier


async def look_up(
    session: AsyncSession, guard: LookupGuard, client: str, code: str, verifier: str
) -> LookupOut:
    """The status, the history without officers' names or notes, and the payments."""
    dossier = await guard.verified_dossier(session, client, code, verifier)
    procedure = await repository.procedure(session, dossier.procedure_key)
    unit = await repository.unit(session, dossier.unit_code)
    steps = await repository.history(session, dossier.id)
    return LookupOut(
        code=dossier.code,
        status=dossier.status,
        status_label_vi=_label(STATUS_LABELS_VI, dossier.status) or dossier.status,
        procedure_code=procedure.code if procedure else None,
        procedure_name=procedure.name if procedure else dossier.procedure_key,
        unit_code=dossier.unit_code,
        unit_name=unit.name if unit else dossier.unit_code,
        received_at=dossier.received_at,
        appointment_at=dossier.appointment_at,
        rescheduled_at=dossier.rescheduled_at,
        history=[
            LookupStep(
                action=step.action,
                action_label_vi=_label(ACTION_LABELS_VI, step.action)
                or _OTHER_ACTION_LABELS_VI.get(step.action, step.action),
                status=step.to_status,
                status_label_vi=_label(STATUS_LABELS_VI, step.to_status) or step.to_status,
                at=step.at,
            )
            for step in steps
        ],
        # The lookup's model has no field for who paid or how, so none of it can leak.
        payments=LookupPayments.model_validate(figures(dossier.payments)),
    )
