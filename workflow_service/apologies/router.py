"""Apology slips of a case (phiếu xin lỗi và hẹn lại ngày trả kết quả): issuing one, listing
them, reading one as JSON or as a printable PDF."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from shared.http.preconditions import expected_version
from workflow_service.apologies import service
from workflow_service.apologies.schemas import SLIP_EXAMPLE, ApologyBody, ApologyList
from workflow_service.common.deps import Book, Caller, Events, IfMatch, Session
from workflow_service.common.documents import (
    PDF,
    AcceptHeader,
    FormatQuery,
    pdf_response,
    wants_pdf,
)
from workflow_service.domain import apologies as rules
from workflow_service.domain.apologies import ApologySlip

router = APIRouter(
    prefix="/v1/cases", tags=["cases"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


@router.post(
    "/{case_id}/apologies",
    status_code=201,
    response_model=ApologySlip,
    summary="Apologise for a late case, with a new appointment",
    description=(
        "Lập phiếu xin lỗi và hẹn lại ngày trả kết quả (mẫu 04, Thông tư 01/2018/TT-VPCP) khi hồ "
        "sơ đã hoặc sẽ trễ hạn. Người lập: cán bộ có vai trò của bước hiện tại hoặc lãnh đạo "
        "(`approver`). Cần `If-Match` với ETag của hồ sơ xử lý. Thời gian hẹn mới phải sau thời "
        "gian hẹn hiện tại, ở tương lai và vào ngày làm việc. Hạn giải quyết của hồ sơ không "
        "đổi: hồ sơ vẫn được tính trễ hạn theo thời gian hẹn ban đầu. Hồ sơ đã kết thúc trả 409."
    ),
    responses={
        201: {"content": {"application/json": {"example": SLIP_EXAMPLE}}},
        428: {"description": "If-Match missing — thiếu If-Match"},
    },
)
async def issue_apology(
    case_id: uuid.UUID,
    body: ApologyBody,
    response: Response,
    principal: Caller,
    session: Session,
    outbox: Events,
    book: Book,
    now: Now,
    if_match: IfMatch = None,
) -> ApologySlip:
    case, apology, slip = await service.issue(
        session, outbox, book, case_id, principal, expected_version(if_match), body, now
    )
    response.headers["ETag"] = f'"{case.version}"'
    response.headers["Location"] = f"/v1/cases/{case.id}/apologies/{apology.id}"
    return slip


@router.get(
    "/{case_id}/apologies",
    response_model=ApologyList,
    summary="The apology slips of a case",
    description=(
        "Các phiếu xin lỗi và hẹn lại ngày trả kết quả của hồ sơ xử lý, cũ trước mới sau, cùng "
        "thời gian hẹn ban đầu và thời gian hẹn mới của phiếu gần nhất."
    ),
)
async def list_apologies(case_id: uuid.UUID, principal: Caller, session: Session) -> ApologyList:
    return await service.list_apologies(session, case_id, principal)


@router.get(
    "/{case_id}/apologies/{apology_id}",
    response_model=ApologySlip,
    summary="An apology slip, as JSON or PDF",
    description=(
        "Một phiếu xin lỗi và hẹn lại ngày trả kết quả: JSON, hoặc bản in PDF khổ A4 khi "
        "`Accept: application/pdf` hay `?format=pdf`. Hồ sơ ngoài phạm vi đơn vị trả 404."
    ),
    responses={
        200: {
            "description": "phiếu (JSON) hoặc bản in (PDF)",
            "content": {
                "application/json": {"example": SLIP_EXAMPLE},
                PDF: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def get_apology(
    case_id: uuid.UUID,
    apology_id: uuid.UUID,
    principal: Caller,
    session: Session,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
) -> ApologySlip | Response:
    case, apology, slip = await service.one(session, case_id, apology_id, principal)
    if not wants_pdf(format, accept):
        return slip
    return pdf_response(
        rules.apology_document(slip), f"xin-loi-{case.dossier_code}-{str(apology.id)[:8]}.pdf"
    )
