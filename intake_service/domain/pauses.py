"""What a paused case asks of the applicant, as intake keeps it on the dossier and shows it.

Workflow's ``case.paused`` says why the clock stopped (a supplement with its items, or a
financial obligation with its amount); payment's ``payment.requested`` names the request the
obligation is paid through. The two arrive on different topics in either order, so the pause is
stored on its own (``intake.dossiers.pause``) and joined to the payment view when read. Pure: no
SQL, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake_service.domain.payments_view import RequestFigures, figures
from shared.events import CasePaused
from shared.vocabulary import PauseReason

UNITEMISED_REASON = "Theo yêu cầu của cơ quan giải quyết"


def pause_record(event: CasePaused) -> dict[str, Any]:
    """The JSON kept on the dossier while it waits on the applicant."""
    return {
        "case_id": str(event.case_id),
        "reason": event.reason,
        "detail": event.detail,
        "items": [i.model_dump(mode="json") for i in event.items],
        "amount_vnd": event.amount_vnd,
        "paused_at": event.paused_at.astimezone(dt.UTC).isoformat(),
        "requested_by": event.requested_by,
        "step": event.step,
        "agency_code": event.agency_code,
    }


def supplement_items(event: CasePaused) -> list[tuple[str, str]]:
    """The (component, reason) pairs the slip lists. An officer who named no item still asked
    for something: the request's text stands as the one item."""
    if event.items:
        return [(i.component, i.reason) for i in event.items]
    return [(event.detail or "Bổ sung, hoàn thiện hồ sơ", UNITEMISED_REASON)]


@dataclass(frozen=True)
class Obligation:
    amount_vnd: int | None
    request: RequestFigures | None  # None until payment's request has reached intake


@dataclass(frozen=True)
class PauseView:
    reason: PauseReason
    detail: str
    items: list[dict[str, str]]
    paused_at: dt.datetime
    requested_by: str | None
    step: str | None
    agency_code: str | None
    obligation: Obligation | None

    @property
    def reason_label_vi(self) -> str:
        return PauseReason(self.reason).label_vi


def _obligation_request(
    payments: Mapping[str, Any] | None, paused_at: dt.datetime
) -> RequestFigures | None:
    """The financial-obligation request raised for this pause: payment raises it with the
    pause's instant, so an earlier obligation's request (already paid) is not this one."""
    candidates = [
        r
        for r in figures(payments).requests
        if r.purpose == "financial_obligation"
        and (r.requested_at is None or r.requested_at >= paused_at)
    ]
    return candidates[-1] if candidates else None


def view(pause: Mapping[str, Any] | None, payments: Mapping[str, Any] | None) -> PauseView | None:
    if not pause:
        return None
    paused_at = dt.datetime.fromisoformat(pause["paused_at"])
    obligation = None
    if pause["reason"] == "financial_obligation":
        obligation = Obligation(
            amount_vnd=pause.get("amount_vnd"),
            request=_obligation_request(payments, paused_at),
        )
    return PauseView(
        reason=pause["reason"],
        detail=pause.get("detail") or "",
        items=list(pause.get("items") or []),
        paused_at=paused_at,
        requested_by=pause.get("requested_by"),
        step=pause.get("step"),
        agency_code=pause.get("agency_code"),
        obligation=obligation,
    )
