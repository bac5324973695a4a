"""Cases: finding them, reading one with its steps, the action table, and acting on a case."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from shared.clock import Now
from shared.errors import IF_MATCH_RESPONSES, PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.preconditions import expected_version
from workflow_service.agencies.errors import UnknownAgency
from workflow_service.cases import service
from workflow_service.cases.schemas import ActionBody, ActionRuleOut, CaseDetail, CasePage
from workflow_service.common.deps import (
    Book,
    Caller,
    Cursor,
    Events,
    IfMatch,
    Keys,
    Limit,
    Session,
)
from workflow_service.domain import cases as rules

router = APIRouter(
    prefix="/v1/cases", tags=["cases"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


@router.get(
    "",
    response_model=CasePage,
    summary="Find cases",
    description=(
        "Tìm hồ sơ xử lý theo mã hồ sơ hoặc id hồ sơ, trong phạm vi đơn vị của người xem, theo "
        "thời điểm mở; còn trang sau thì `next_cursor` mang con trỏ, gửi lại trong `?cursor=`."
    ),
)
async def find_cases(
    principal: Caller,
    session: Session,
    dossier_id: uuid.UUID | None = None,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CasePage:
    return await service.find_cases(
        session,
        principal,
        dossier_id=dossier_id,
        dossier_code=dossier_code,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/actions",
    response_model=list[ActionRuleOut],
    summary="The action table",
    description="Bảng thao tác được phép: trạng thái hồ sơ xử lý, trạng thái bước, thao tác, vai trò.",
)
async def action_table() -> list[ActionRuleOut]:
    return service.action_table()


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    summary="Read a case",
    description="Hồ sơ xử lý với các bước đã qua và bước hiện tại; ngoài phạm vi đơn vị trả 404.",
)
async def get_case(
    case_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> CaseDetail:
    detail = await service.read_case(session, case_id, principal)
    response.headers["ETag"] = f'"{detail.version}"'
    return detail


def _route(action: rules.CaseAction, path: str, summary: str) -> None:
    async def endpoint(
        case_id: uuid.UUID,
        response: Response,
        principal: Caller,
        session: Session,
        outbox: Events,
        book: Book,
        keys: Keys,
        now: Now,
        body: ActionBody | None = None,
        if_match: IfMatch = None,
    ) -> CaseDetail:
        detail = await service.perform(
            session,
            outbox,
            book,
            keys,
            case_id,
            action,
            body or ActionBody(),
            principal,
            expected_version(if_match),
            now,
        )
        response.headers["ETag"] = f'"{detail.version}"'
        return detail

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
            **(problem_responses(UnknownAgency) if action is rules.CaseAction.transfer else {}),
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
