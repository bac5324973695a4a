"""Problems the lifecycle actions raise."""

from __future__ import annotations

from intake_service.domain.lifecycle import STATUS_LABELS_VI, NotAllowedInStatus
from shared.errors import Problem


class InvalidTransition(Problem):
    status = 409
    code = "invalid-transition"
    title = "Not possible in the dossier's current status"
    title_vi = "Không thực hiện được ở trạng thái hiện tại của hồ sơ"

    @classmethod
    def of(cls, exc: NotAllowedInStatus) -> InvalidTransition:
        allowed = ", ".join(exc.allowed) or "none"
        return cls(
            detail=f"{exc.action} is not possible while the dossier is {exc.status}; "
            f"possible: {allowed}",
            detail_vi=f"Hồ sơ đang ở trạng thái '{STATUS_LABELS_VI[exc.status]}'",
        )


class SupplementAlreadyRequested(Problem):
    status = 409
    code = "supplement-already-requested"
    title = "A supplement was already requested"
    title_vi = "Hồ sơ đã được yêu cầu bổ sung một lần"

    def __init__(self) -> None:
        super().__init__(
            detail="Everything missing must be listed in one request (Decree 61/2018, art. 19)",
            detail_vi="Mọi thành phần thiếu phải được yêu cầu bổ sung trong một lần",
        )


class UnknownDocument(Problem):
    status = 422
    code = "unknown-document"
    title = "No such document on this dossier"
    title_vi = "Hồ sơ không có giấy tờ này"

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            detail=f"Attach the documents to the dossier first; not found: {', '.join(missing)}",
            detail_vi="Hãy đính kèm giấy tờ vào hồ sơ trước khi bổ sung",
            errors=[
                {
                    "field": "body.document_ids",
                    "message": "not a document of this dossier",
                    "message_vi": "không phải giấy tờ của hồ sơ này",
                }
            ],
        )


class ActionForbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_vi = "Không có quyền"


def withdraw_not_own() -> ActionForbidden:
    return ActionForbidden(
        detail="An integration client withdraws only the dossiers it submitted",
        detail_vi="Hệ thống tích hợp chỉ rút được hồ sơ do chính hệ thống đó nộp",
    )
