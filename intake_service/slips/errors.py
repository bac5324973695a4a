"""Problems the slips feature raises, each with Vietnamese beside the English."""

from __future__ import annotations

from intake_service.domain.slips import SLIP_TITLES_VI, SlipKind, status_label_vi
from shared.errors import Problem

SLIP_TITLES_EN = {
    SlipKind.receipt: "receipt and appointment slip",
    SlipKind.supplement_request: "supplement request slip",
    SlipKind.refusal: "refusal slip",
}


class DossierNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such dossier"
    title_vi = "Không tìm thấy hồ sơ"


class SlipNotIssued(Problem):
    """The dossier's log holds no action that issues this slip in its current state."""

    status = 409
    code = "slip-not-issued"
    title = "No such slip was issued for this dossier"
    title_vi = "Hồ sơ chưa có phiếu này"

    def __init__(self, kind: SlipKind, status: str) -> None:
        super().__init__(
            detail=f"The dossier is {status}; no {SLIP_TITLES_EN[kind]} was issued for it",
            detail_vi=(
                f"Hồ sơ đang ở trạng thái '{status_label_vi(status)}', "
                f"chưa có {SLIP_TITLES_VI[kind].lower()}"
            ),
        )
