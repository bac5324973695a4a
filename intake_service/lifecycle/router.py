"""Lifecycle actions on a dossier: receive, request supplement, supplement, refuse, withdraw,
return the result. Each takes ``If-Match`` with the dossier's ETag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from intake_service.domain.lifecycle import ACTION_LABELS_VI, TRANSITIONS, Action, markdown_table
from intake_service.dossiers.desk import DeskRequest, desk_request
from intake_service.dossiers.errors import DossierNotFound
from intake_service.dossiers.schemas import DossierOut
from intake_service.lifecycle import service
from intake_service.lifecycle.errors import (
    ActionForbidden,
    InvalidTransition,
    SupplementAlreadyRequested,
    UnknownDocument,
)
from intake_service.lifecycle.schemas import (
    NoteBody,
    ReasonBody,
    SupplementBody,
    SupplementRequestBody,
    TransitionOut,
)
from shared.auth import Bearer
from shared.errors import IF_MATCH_RESPONSES, PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Session

router = APIRouter(
    prefix="/v1/dossiers",
    tags=["dossier lifecycle"],
    responses={
        **PROBLEM_RESPONSES,
        **IF_MATCH_RESPONSES,
        **problem_responses(DossierNotFound, ActionForbidden, InvalidTransition),
    },
    route_class=CommitRoute,
)

IfMatch = Annotated[
    str | None,
    Header(description='ETag của hồ sơ khi đọc, ví dụ "3"; sai phiên bản trả 412', max_length=40),
]


class Desk:
    """What every lifecycle action needs from the request besides its session, gathered once."""

    def __init__(self, response: Response, inputs: DeskRequest, if_match: str | None) -> None:
        self.response = response
        self.principal = inputs.principal
        self.reference = inputs.reference
        self.runtime = inputs.runtime
        self.if_match = if_match
        self.context = service.Context(
            outbox=inputs.runtime.outbox,
            calendar=inputs.calendar,
            applicant_ref_key=inputs.runtime.settings.applicant_ref_key.get_secret_value(),
            now=inputs.now,
        )

    def answer(self, dossier: DossierOut) -> DossierOut:
        self.response.headers["ETag"] = f'"{dossier.version}"'
        return dossier


async def _desk(
    request: Request, response: Response, credentials: Bearer, if_match: IfMatch = None
) -> Desk:
    # One dependency for all of it (see intake_service.dossiers.desk), built by a coroutine: a
    # class (or any plain function) as a dependency runs in the threadpool, a thread hop per
    # request.
    return Desk(response, await desk_request(request, credentials), if_match)


DeskDep = Annotated[Desk, Depends(_desk)]


@router.get(
    "/lifecycle",
    response_model=list[TransitionOut],
    summary="The lifecycle table",
    description="Bảng chuyển trạng thái hồ sơ và vai trò được phép:\n\n" + markdown_table(),
)
async def lifecycle_table() -> list[TransitionOut]:
    return [
        TransitionOut(
            source=t.source,
            action=t.action,
            action_label_vi=ACTION_LABELS_VI[t.action],
            target=t.target,
            roles=sorted(t.roles),
            phase=t.phase,
        )
        for t in TRANSITIONS
    ]


@router.post(
    "/{code}/receive",
    response_model=DossierOut,
    summary="Receive a dossier",
    description="Tiếp nhận hồ sơ đã kiểm tra đầy đủ: cấp giấy tiếp nhận và hẹn trả kết quả; "
    "thời hạn giải quyết bắt đầu tính.",
)
async def receive(code: str, desk: DeskDep, body: NoteBody | None = None) -> DossierOut:
    # No request session: the usual reception is one statement on the hot path's pool; the
    # service opens a session only for the general way.
    return desk.answer(
        await service.receive_at_desk(
            desk.runtime.sessionmaker,
            desk.reference,
            desk.principal,
            desk.context,
            code,
            desk.if_match,
            note=body.note if body else None,
        )
    )


@router.post(
    "/{code}/request-supplement",
    response_model=DossierOut,
    summary="Request a supplement",
    description="Yêu cầu bổ sung, hoàn thiện hồ sơ: liệt kê một lần mọi thành phần thiếu hoặc sai.",
    responses=problem_responses(SupplementAlreadyRequested),
)
async def request_supplement(
    code: str, body: SupplementRequestBody, desk: DeskDep, session: Session
) -> DossierOut:
    return desk.answer(
        await service.act(
            session,
            desk.principal,
            desk.context,
            code,
            Action.request_supplement,
            desk.if_match,
            note=body.note,
            items=body.items,
        )
    )


@router.post(
    "/{code}/supplement",
    response_model=DossierOut,
    summary="Supplement a dossier",
    description=(
        "Bổ sung hồ sơ theo yêu cầu: người nộp (hồ sơ của mình), cán bộ tiếp nhận của đơn vị "
        "(thay người nộp, tại quầy) hoặc hệ thống tích hợp (hồ sơ do mình gửi). Giấy tờ bổ sung "
        "được đính kèm trước (`POST /v1/dossiers/{code}/documents`) và nêu trong `document_ids`. "
        "Yêu cầu lúc tiếp nhận: hồ sơ trở lại chờ kiểm tra. Yêu cầu trong khi giải quyết: hồ sơ "
        "trở lại đang xử lý và thời gian giải quyết tính tiếp từ lúc bổ sung. Hồ sơ không chờ "
        "bổ sung trả 409."
    ),
    responses=problem_responses(UnknownDocument),
)
async def supplement(
    code: str, desk: DeskDep, session: Session, body: SupplementBody | None = None
) -> DossierOut:
    return desk.answer(
        await service.act(
            session,
            desk.principal,
            desk.context,
            code,
            Action.supplement,
            desk.if_match,
            note=body.note if body else None,
            document_ids=body.document_ids if body else (),
        )
    )


@router.post(
    "/{code}/refuse",
    response_model=DossierOut,
    summary="Refuse a dossier",
    description="Từ chối tiếp nhận giải quyết hồ sơ, nêu rõ lý do.",
)
async def refuse(code: str, body: ReasonBody, desk: DeskDep, session: Session) -> DossierOut:
    return desk.answer(
        await service.act(
            session,
            desk.principal,
            desk.context,
            code,
            Action.refuse,
            desk.if_match,
            note=body.reason,
        )
    )


@router.post(
    "/{code}/withdraw",
    response_model=DossierOut,
    summary="Withdraw a dossier",
    description="Người nộp rút hồ sơ (hoặc cán bộ, hệ thống tích hợp thay mặt người nộp). Hệ "
    "thống tích hợp chỉ rút được hồ sơ do chính nó nộp; hồ sơ khác trả 403.",
)
async def withdraw(
    code: str, desk: DeskDep, session: Session, body: NoteBody | None = None
) -> DossierOut:
    return desk.answer(
        await service.act(
            session,
            desk.principal,
            desk.context,
            code,
            Action.withdraw,
            desk.if_match,
            note=body.note if body else None,
        )
    )


@router.post(
    "/{code}/return-result",
    response_model=DossierOut,
    summary="Return the result",
    description="Trả kết quả giải quyết cho người nộp.",
)
async def return_result(code: str, desk: DeskDep, session: Session) -> DossierOut:
    return desk.answer(
        await service.act(
            session, desk.principal, desk.context, code, Action.return_result, desk.if_match
        )
    )
