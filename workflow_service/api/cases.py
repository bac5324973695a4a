"""Cases: reading them with their steps (the process control sheet) and acting on them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, current_principal
from shared.clock import Now
from shared.errors import (
    IF_MATCH_RESPONSES,
    PROBLEM_RESPONSES,
)
from shared.http.preconditions import expected_version
from shared.runtime import Runtime, db_session, runtime_of
from workflow_service import actions
from workflow_service.api.access import visible_case
from workflow_service.api.apologies import (
    PDF_RESPONSES,
    AcceptHeader,
    FormatQuery,
    pdf_response,
    wants_pdf,
)
from workflow_service.api.schemas import (
    UNAVAILABLE_RESPONSES,
    ActionBody,
    ActionRuleOut,
    CaseDetail,
    CaseOut,
    ControlSheetRow,
    StepOut,
)
from workflow_service.db.models import Case, CaseAction, Step
from workflow_service.db.scope import case_scope
from workflow_service.domain import authority
from workflow_service.domain import cases as rules
from workflow_service.domain import control_sheet as sheet
from workflow_service.domain.deadlines import TIMELINESS_LABELS_VI, Timeliness

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=PROBLEM_RESPONSES)

Session = Annotated[AsyncSession, Depends(db_session)]
Officer = Annotated[Principal, Depends(current_principal)]


@router.get(
    "",
    response_model=list[CaseOut],
    summary="Find cases",
    description="Tìm hồ sơ xử lý theo mã hồ sơ hoặc id hồ sơ, trong phạm vi đơn vị của người xem.",
)
async def find_cases(
    principal: Officer,
    session: Session,
    dossier_id: uuid.UUID | None = None,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Case]:
    query = select(Case).where(case_scope(principal))
    if dossier_id:
        query = query.where(Case.dossier_id == dossier_id)
    if dossier_code:
        query = query.where(Case.dossier_code == dossier_code)
    return list((await session.scalars(query.order_by(Case.opened_at, Case.id).limit(limit))).all())


@router.get(
    "/actions",
    response_model=list[ActionRuleOut],
    summary="The action table",
    description="Bảng thao tác được phép: trạng thái hồ sơ xử lý, trạng thái bước, thao tác, vai trò.",
)
async def action_table() -> list[ActionRuleOut]:
    return [
        ActionRuleOut(
            case_status=r.case_status,
            step_status=r.step_status,
            action=r.action,
            action_label_vi=rules.ACTION_LABELS_VI[r.action],
            roles=sorted(
                {
                    rules.STEP_ROLE if g.holder is authority.Holder.step_role else rules.LEADER
                    for g in authority.GRANTS
                    if g.action == r.action
                }
            ),
            claimant_only=r.claimant_only,
        )
        for r in rules.RULES
    ]


def step_out(step: Step) -> StepOut:
    out = StepOut.model_validate(step)
    if step.timeliness:
        out.timeliness_label_vi = TIMELINESS_LABELS_VI[Timeliness(step.timeliness)]
    return out


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    summary="Read a case",
    description="Hồ sơ xử lý với các bước đã qua và bước hiện tại; ngoài phạm vi đơn vị trả 404.",
)
async def get_case(
    case_id: uuid.UUID, response: Response, principal: Officer, session: Session
) -> CaseDetail:
    case = await visible_case(session, case_id, principal)
    steps = (
        await session.scalars(select(Step).where(Step.case_id == case.id).order_by(Step.seq))
    ).all()
    response.headers["ETag"] = f'"{case.version}"'
    detail = CaseDetail.model_validate(case)
    detail.steps = [step_out(s) for s in steps]
    return detail


@router.get(
    "/{case_id}/control-sheet",
    response_model=list[ControlSheetRow],
    summary="Process control sheet",
    description=(
        "Phiếu kiểm soát quá trình giải quyết hồ sơ: mỗi lần bàn giao giữa người, cơ quan, "
        "thời điểm, hạn của bước và kết quả trước hạn / đúng hạn / trễ hạn. Bản in PDF khổ A4 "
        "khi `Accept: application/pdf` hay `?format=pdf`."
    ),
    responses=PDF_RESPONSES,
)
async def control_sheet(
    case_id: uuid.UUID,
    principal: Officer,
    session: Session,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
) -> list[ControlSheetRow] | Response:
    case = await visible_case(session, case_id, principal)
    steps = {s.id: s for s in await session.scalars(select(Step).where(Step.case_id == case.id))}
    actions = await session.scalars(
        select(CaseAction).where(CaseAction.case_id == case.id).order_by(CaseAction.id)
    )
    if wants_pdf(format, accept):
        rows_pdf = sheet.handoffs(list(actions), list(steps.values()))
        document = sheet.control_sheet_document(sheet.heading_of(case), rows_pdf)
        return pdf_response(document, f"kiem-soat-{case.dossier_code}.pdf")
    rows: list[ControlSheetRow] = []
    for a in actions:
        step = steps.get(a.step_id) if a.step_id else None
        rows.append(
            ControlSheetRow(
                at=a.at,
                action=a.action,
                actor=a.actor,
                role=a.role,
                step=step.name if step else None,
                agency_code=a.agency_code,
                step_due_at=step.due_at if step else None,
                timeliness=step.timeliness
                if step and step.finished_at and step.finished_at <= a.at
                else None,
                note=a.note,
            )
        )
    return rows


async def _act(
    action: rules.CaseAction,
    case_id: uuid.UUID,
    body: ActionBody,
    request: Request,
    response: Response,
    principal: Principal,
    session: AsyncSession,
    runtime: Runtime,
    now: dt.datetime,
    if_match: str | None,
) -> CaseDetail:
    expected = expected_version(if_match)
    state = request.app.state
    case, steps = await actions.perform(
        session,
        actions.Services(runtime.outbox, state.calendar_book, state.signing_keys, state.settings),
        case_id,
        action,
        body,
        principal,
        expected,
        now,
    )
    detail = CaseDetail.model_validate(case)
    detail.steps = [step_out(s) for s in steps]
    response.headers["ETag"] = f'"{case.version}"'
    return detail


def _route(action: rules.CaseAction, path: str, summary: str) -> None:
    async def endpoint(
        case_id: uuid.UUID,
        request: Request,
        response: Response,
        principal: Officer,
        session: Session,
        runtime: Annotated[Runtime, Depends(runtime_of)],
        now: Now,
        body: ActionBody | None = None,
        if_match: Annotated[str | None, Header(max_length=40)] = None,
    ) -> CaseDetail:
        return await _act(
            action,
            case_id,
            body or ActionBody(),
            request,
            response,
            principal,
            session,
            runtime,
            now,
            if_match,
        )

    endpoint.__name__ = f"case_{action}"
    router.add_api_route(
        f"/{{case_id}}/{path}",
        endpoint,
        methods=["POST"],
        response_model=CaseDetail,
        summary=summary,
        description=(
            f"{rules.ACTION_LABELS_VI[action]}. Cần `If-Match` với ETag của hồ sơ xử lý. Chỉ cán "
            "bộ thuộc cơ quan được giao bước, đúng vai trò (bảng thẩm quyền), được thao tác."
        ),
        responses={
            **IF_MATCH_RESPONSES,
            **(UNAVAILABLE_RESPONSES if action is rules.CaseAction.transfer else {}),
        },
    )


for _action, _path, _summary in (
    (rules.CaseAction.claim, "claim", "Claim the current step"),
    (rules.CaseAction.complete, "complete", "Complete the step and pass the case on"),
    (rules.CaseAction.send_back, "send-back", "Send the case back to an earlier step"),
    (rules.CaseAction.transfer, "transfer", "Transfer the step to another agency"),
    (
        rules.CaseAction.request_supplement,
        "request-supplement",
        "Ask the applicant for a supplement (clock paused)",
    ),
    (
        rules.CaseAction.request_financial_obligation,
        "request-financial-obligation",
        "Ask for a financial obligation (clock paused until paid)",
    ),
    (rules.CaseAction.resume, "resume", "Resume a paused case"),
    (rules.CaseAction.resolve, "resolve", "Resolve the case with a result"),
    (rules.CaseAction.reject, "reject", "Reject after examination, with a reason"),
):
    _route(_action, _path, _summary)
