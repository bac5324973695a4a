"""The pause a dossier waits on, as the API shows it (see ``domain.pauses``)."""

from __future__ import annotations

from intake_service.api.schemas import ObligationOut, PauseOut, SupplementItem
from intake_service.db.models import Dossier
from intake_service.domain.pauses import view

# Paths on the payment service (its OpenAPI documents both): read the request, pay it online.
PAYMENT_REQUEST_PATH = "/v1/payment-requests/{request_id}"
PAY_PATH = "/v1/payments"


def pause_out(d: Dossier) -> PauseOut | None:
    pause = view(d.pause, d.payments)
    if pause is None:
        return None
    obligation = None
    if pause.obligation is not None:
        request = pause.obligation.request
        open_request = request is not None and request.status == "open"
        obligation = ObligationOut(
            amount_vnd=pause.obligation.amount_vnd,
            owed_vnd=request.owed_vnd if request else None,
            payment_request_id=request.request_id if request else None,
            payment_request_url=PAYMENT_REQUEST_PATH.format(request_id=request.request_id)
            if request
            else None,
            pay_url=PAY_PATH if open_request else None,
            agency_code=request.agency_code if request else None,
            status=request.status if request else None,
        )
    return PauseOut(
        reason=pause.reason,  # type: ignore[arg-type]
        reason_label_vi=pause.reason_label_vi,
        detail=pause.detail,
        items=[SupplementItem.model_validate(i) for i in pause.items],
        paused_at=pause.paused_at,
        requested_by=pause.requested_by,
        agency_code=pause.agency_code,
        obligation=obligation,
    )
