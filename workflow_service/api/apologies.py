"""Apology slips of a case (phiếu xin lỗi và hẹn lại ngày trả kết quả): issuing one, listing
them, reading one as JSON or as a printable PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, current_principal
from shared.bounds import BoundedAwareDatetime
from shared.clock import Now
from shared.errors import (
    PROBLEM_RESPONSES,
    Problem,
    conflict,
    forbidden,
    not_found,
)
from shared.http.preconditions import expected_version
from shared.pdf import OfficialDocument, render_pdf
from shared.runtime import Runtime, db_session, runtime_of
from workflow_service.api.access import visible_case
from workflow_service.db import apologies as store
from workflow_service.db.calendar import CalendarBook
from workflow_service.db.scope import locked_case
from workflow_service.domain import apologies as rules
from workflow_service.domain.apologies import ApologySlip, build_slip

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=PROBLEM_RESPONSES)

Session = Annotated[AsyncSession, Depends(db_session)]
Officer = Annotated[Principal, Depends(current_principal)]

PDF = "application/pdf"
FormatQuery = Annotated[
    Literal["json", "pdf"] | None,
    Query(description="json (mặc định) hoặc pdf; ưu tiên hơn tiêu đề Accept"),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]

SLIP_EXAMPLE = {
    "kind": "apology",
    "title_vi": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "id": "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5",
    "case_id": "0b6a2c1d-3e4f-4a5b-9c6d-7e8f9a0b1c2d",
    "dossier_code": "00070-260305-0001",
    "procedure_code": "1.004227",
    "unit_code": "00070",
    "agency_code": "vpdkdd-01",
    "agency_label_vi": "Văn phòng đăng ký đất đai (01)",
    "original_appointment_at": "2026-03-19T17:00:00+07:00",
    "new_appointment_at": "2026-03-26T17:00:00+07:00",
    "reason": "Chờ kết quả đo đạc lại ranh giới thửa đất số 125, tờ bản đồ số 8",
    "officer": "cb.vpdkdd.01",
    "issued_at": "2026-03-18T10:15:00+07:00",
    "lateness": "will_be_late",
    "lateness_label_vi": "Dự kiến trễ hạn hẹn trả kết quả",
}


def wants_pdf(format: str | None, accept: str | None) -> bool:
    """``?format=`` decides when given; otherwise the Accept header."""
    if format is not None:
        return format == "pdf"
    return accept is not None and PDF in accept.lower()


def pdf_response(document: OfficialDocument, filename: str) -> Response:
    content = render_pdf(document)
    return Response(
        content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            # The same document renders to the same bytes, so the hash is a stable validator.
            "ETag": f'"{hashlib.sha256(content).hexdigest()[:32]}"',
            "Vary": "Accept",
        },
    )


PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "phiếu (JSON) hoặc bản in (PDF)",
        "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
    }
}


class ApologyBody(BaseModel):
    """Nội dung phiếu xin lỗi: lý do chậm trễ và thời gian hẹn trả kết quả mới."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "Chờ kết quả đo đạc lại ranh giới thửa đất số 125, tờ bản đồ số 8",
                    "new_appointment_at": "2026-03-26T17:00:00+07:00",
                }
            ]
        },
    )

    reason: str = Field(max_length=2000, description="lý do chậm trễ")
    new_appointment_at: BoundedAwareDatetime = Field(
        description="thời gian hẹn trả kết quả mới: sau thời gian hẹn hiện tại, vào ngày làm việc"
    )


class ApologyList(BaseModel):
    case_id: uuid.UUID
    original_appointment_at: dt.datetime = Field(
        description="thời gian hẹn trả kết quả ban đầu; hồ sơ được đánh giá theo mốc này"
    )
    latest_new_appointment_at: dt.datetime | None = Field(
        description="thời gian hẹn mới của phiếu xin lỗi gần nhất (nếu có)"
    )
    items: list[ApologySlip] = Field(description="các phiếu xin lỗi, cũ trước mới sau")


def _invalid(exc: rules.InvalidApology) -> Problem:
    return Problem(
        422,
        "validation-error",
        "The apology is not valid",
        "Phiếu xin lỗi không hợp lệ",
        detail=str(exc),
        errors=[
            {"field": p.field, "message": p.message, "message_vi": p.message_vi}
            for p in exc.problems
        ],
    )


def _finished(exc: rules.CaseFinished) -> Problem:
    return conflict(
        str(exc),
        "Hồ sơ đã kết thúc xử lý (đã giải quyết, từ chối hoặc rút), không lập phiếu xin lỗi",
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
    request: Request,
    response: Response,
    principal: Officer,
    session: Session,
    runtime: Annotated[Runtime, Depends(runtime_of)],
    now: Now,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> ApologySlip:
    expected = expected_version(if_match)
    book: CalendarBook = request.app.state.calendar_book
    async with session.begin():
        case, step = await locked_case(session, case_id, principal, expected)
        if not rules.may_issue(principal.roles, step.role if step else None):
            raise forbidden("requires the role of the case's current step, or approver")
        calendar = await book.calendar(session, now)
        try:
            lateness = rules.check(
                case_status=case.status,
                due_at=case.due_at,
                new_appointment_at=body.new_appointment_at,
                reason=body.reason,
                now=now,
                calendar=calendar,
            )
        except rules.CaseFinished as exc:
            raise _finished(exc) from exc
        except rules.InvalidApology as exc:
            raise _invalid(exc) from exc
        apology = await store.issue(
            session,
            runtime.outbox,
            case,
            step,
            officer=principal.sub,
            reason=body.reason,
            new_appointment_at=body.new_appointment_at,
            lateness=lateness,
            at=now,
        )
        slip = build_slip(case, apology)
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
async def list_apologies(case_id: uuid.UUID, principal: Officer, session: Session) -> ApologyList:
    async with session.begin():
        case = await visible_case(session, case_id, principal)
        rows = await store.of_case(session, case.id)
    items = [build_slip(case, a) for a in rows]
    return ApologyList(
        case_id=case.id,
        original_appointment_at=case.due_at,
        latest_new_appointment_at=items[-1].new_appointment_at if items else None,
        items=items,
    )


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
    principal: Officer,
    session: Session,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
) -> ApologySlip | Response:
    async with session.begin():
        case = await visible_case(session, case_id, principal)
        apology = await store.one(session, case.id, apology_id)
    if apology is None:
        raise not_found("apology slip", "phiếu xin lỗi")
    slip = build_slip(case, apology)
    if not wants_pdf(format, accept):
        return slip
    return pdf_response(
        rules.apology_document(slip), f"xin-loi-{case.dossier_code}-{str(apology.id)[:8]}.pdf"
    )
