"""Lifecycle actions on a dossier: receive, request supplement, supplement, refuse, withdraw,
return the result. Each takes ``If-Match`` with the dossier's ETag."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.calendar import ReceptionCalendar
from intake_service.api.dossiers import dossier_out
from intake_service.api.schemas import (
    DossierOut,
    NoteBody,
    ReasonBody,
    SupplementBody,
    SupplementRequestBody,
    TransitionOut,
)
from intake_service.db import lifecycle, repository
from intake_service.db.models import Document, Dossier, DossierAction
from intake_service.domain.lifecycle import (
    ACTION_LABELS_VI,
    STATUS_LABELS_VI,
    TRANSITIONS,
    Action,
    DossierStatus,
    NotAllowedInStatus,
    RoleNotAllowed,
    decide,
    markdown_table,
    may_answer_supplement,
    roles_for,
    supplement_requests_exhausted,
)
from intake_service.domain.reception import may_withdraw
from intake_service.domain.slips import supplement_note
from shared.auth import Principal, current_principal
from shared.calendar import WorkingCalendar
from shared.clock import Now
from shared.errors import (
    IF_MATCH_RESPONSES,
    PROBLEM_RESPONSES,
    Problem,
    forbidden,
    not_found,
)
from shared.http.preconditions import expected_version, precondition_failed
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(
    prefix="/v1/dossiers",
    tags=["dossier lifecycle"],
    responses={**PROBLEM_RESPONSES, **IF_MATCH_RESPONSES},
)

IfMatch = Annotated[
    str | None,
    Header(description='ETag của hồ sơ khi đọc, ví dụ "3"; sai phiên bản trả 412', max_length=40),
]


async def _act(
    code: str,
    action: Action,
    principal: Principal,
    if_match: str | None,
    session: AsyncSession,
    runtime: Runtime,
    response: Response,
    *,
    now: dt.datetime,
    calendar: WorkingCalendar,
    note: str | None = None,
    items: list[str] | None = None,
    document_ids: Sequence[uuid.UUID] = (),
) -> DossierOut:
    expected = expected_version(if_match)
    async with session.begin():
        dossier = await repository.dossier_by_code(session, code, principal, for_update=True)
        if dossier is None:
            raise not_found("dossier", "hồ sơ")
        if principal.roles.isdisjoint(roles_for(action)):
            raise forbidden(f"your roles may not {action}")
        if action == Action.withdraw and not may_withdraw(principal, dossier.submitted_by):
            raise Problem(
                403,
                "forbidden",
                "Forbidden",
                "Không có quyền",
                detail="An integration client withdraws only the dossiers it submitted",
                detail_vi="Hệ thống tích hợp chỉ rút được hồ sơ do chính hệ thống đó nộp",
            )
        # A stale view is answered before the state: the officer must see what changed first.
        if dossier.version != expected:
            raise precondition_failed()
        if action == Action.supplement:
            _check_supplier(principal, dossier)
        try:
            target = decide(
                DossierStatus(dossier.status),
                action,
                principal.roles,
                received=dossier.received_at is not None,
            )
        except RoleNotAllowed as exc:
            raise forbidden(f"your roles may not {action} in this status") from exc
        if action == Action.request_supplement:
            earlier = await session.scalar(
                select(func.count()).where(
                    DossierAction.dossier_id == dossier.id,
                    DossierAction.action == Action.request_supplement,
                )
            )
            if supplement_requests_exhausted(earlier or 0):
                raise Problem(
                    409,
                    "supplement-already-requested",
                    "A supplement was already requested",
                    "Hồ sơ đã được yêu cầu bổ sung một lần",
                    detail="Everything missing must be listed in one request (Decree 61/2018, art. 19)",
                    detail_vi="Mọi thành phần thiếu phải được yêu cầu bổ sung trong một lần",
                )
        if document_ids:
            await _check_documents(session, dossier, document_ids)
        procedure = await repository.procedure_as_received(session, dossier)
        await lifecycle.apply(
            session,
            runtime.outbox,
            calendar,
            dossier,
            procedure,
            action,
            target,
            principal,
            now,
            note=note,
            items=items,
            applicant_ref_key=runtime.settings.applicant_ref_key.get_secret_value(),
            document_ids=document_ids,
        )
    response.headers["ETag"] = f'"{dossier.version}"'
    return dossier_out(dossier, procedure)


def _check_supplier(principal: Principal, dossier: Dossier) -> None:
    if not may_answer_supplement(
        principal.roles,
        principal.sub,
        applicant_id_number=dossier.applicant_id_number,
        representative_id_number=dossier.representative_id_number,
        submitted_by=dossier.submitted_by,
        desk_covers_unit=principal.covers(dossier.unit_path),
    ):
        raise forbidden(
            "only the applicant, the desk of the dossier's unit or the integration client that "
            "submitted it supplements a dossier"
        )


async def _check_documents(
    session: AsyncSession, dossier: Dossier, document_ids: Sequence[uuid.UUID]
) -> None:
    """A supplement names documents already attached to this dossier, nothing else."""
    wanted = set(document_ids)
    found = set(
        await session.scalars(
            select(Document.id).where(Document.dossier_id == dossier.id, Document.id.in_(wanted))
        )
    )
    if missing := sorted(str(i) for i in wanted - found):
        raise Problem(
            422,
            "unknown-document",
            "No such document on this dossier",
            "Hồ sơ không có giấy tờ này",
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


def _state_conflict(exc: NotAllowedInStatus) -> Problem:
    allowed = ", ".join(exc.allowed) or "none"
    return Problem(
        409,
        "invalid-transition",
        "Not possible in the dossier's current status",
        "Không thực hiện được ở trạng thái hiện tại của hồ sơ",
        detail=f"{exc.action} is not possible while the dossier is {exc.status}; possible: {allowed}",
        detail_vi=f"Hồ sơ đang ở trạng thái '{STATUS_LABELS_VI[exc.status]}'",
    )


async def _guarded(*args: object, **kwargs: object) -> DossierOut:
    try:
        return await _act(*args, **kwargs)  # type: ignore[arg-type]
    except NotAllowedInStatus as exc:
        raise _state_conflict(exc) from exc


PrincipalDep = Annotated[Principal, Depends(current_principal)]
SessionDep = Annotated[AsyncSession, Depends(db_session)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


class Desk:
    """What every lifecycle action needs from the request, gathered once."""

    def __init__(
        self,
        response: Response,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
        now: Now,
        calendar: ReceptionCalendar,
        if_match: IfMatch = None,
    ) -> None:
        self.response = response
        self.principal = principal
        self.session = session
        self.runtime = runtime
        self.now = now
        self.calendar = calendar
        self.if_match = if_match

    async def act(
        self,
        code: str,
        action: Action,
        note: str | None = None,
        items: list[str] | None = None,
        document_ids: Sequence[uuid.UUID] = (),
    ) -> DossierOut:
        return await _guarded(
            code,
            action,
            self.principal,
            self.if_match,
            self.session,
            self.runtime,
            self.response,
            now=self.now,
            calendar=self.calendar,
            note=note,
            items=items,
            document_ids=document_ids,
        )


DeskDep = Annotated[Desk, Depends()]


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
            phase=t.phase,  # type: ignore[arg-type]
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
async def receive(
    code: str,
    desk: DeskDep,
    body: NoteBody | None = None,
) -> DossierOut:
    return await desk.act(code, Action.receive, note=body.note if body else None)


@router.post(
    "/{code}/request-supplement",
    response_model=DossierOut,
    summary="Request a supplement",
    description="Yêu cầu bổ sung, hoàn thiện hồ sơ: liệt kê một lần mọi thành phần thiếu hoặc sai.",
)
async def request_supplement(
    code: str,
    body: SupplementRequestBody,
    desk: DeskDep,
) -> DossierOut:
    items = [f"{i.component}: {i.reason}" for i in body.items]
    # The log keeps the list with the note: the supplement-request slip is read from it.
    return await desk.act(
        code,
        Action.request_supplement,
        note=supplement_note([(i.component, i.reason) for i in body.items], body.note),
        items=items,
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
)
async def supplement(
    code: str,
    desk: DeskDep,
    body: SupplementBody | None = None,
) -> DossierOut:
    return await desk.act(
        code,
        Action.supplement,
        note=body.note if body else None,
        document_ids=body.document_ids if body else (),
    )


@router.post(
    "/{code}/refuse",
    response_model=DossierOut,
    summary="Refuse a dossier",
    description="Từ chối tiếp nhận giải quyết hồ sơ, nêu rõ lý do.",
)
async def refuse(
    code: str,
    body: ReasonBody,
    desk: DeskDep,
) -> DossierOut:
    return await desk.act(code, Action.refuse, note=body.reason)


@router.post(
    "/{code}/withdraw",
    response_model=DossierOut,
    summary="Withdraw a dossier",
    description="Người nộp rút hồ sơ (hoặc cán bộ, hệ thống tích hợp thay mặt người nộp). Hệ "
    "thống tích hợp chỉ rút được hồ sơ do chính nó nộp; hồ sơ khác trả 403.",
)
async def withdraw(
    code: str,
    desk: DeskDep,
    body: NoteBody | None = None,
) -> DossierOut:
    return await desk.act(code, Action.withdraw, note=body.note if body else None)


@router.post(
    "/{code}/return-result",
    response_model=DossierOut,
    summary="Return the result",
    description="Trả kết quả giải quyết cho người nộp.",
)
async def return_result(
    code: str,
    desk: DeskDep,
) -> DossierOut:
    return await desk.act(code, Action.return_result)
