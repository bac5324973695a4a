"""The slips a dossier's applicant is given: receipt and appointment, supplement request, refusal
(Circular 01/2018/TT-VPCP), as JSON for the system or as a printable PDF."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain.slips import SlipKind, slip_document
from intake_service.settings import IntakeSettings
from intake_service.slips import service
from intake_service.slips.errors import DossierNotFound, SlipNotIssued
from intake_service.slips.schemas import (
    RECEIPT_EXAMPLE,
    ReceiptSlip,
    RefusalSlip,
    Slip,
    SupplementRequestSlip,
)
from shared.auth import Principal, current_principal
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.pdf import render_pdf
from shared.runtime import db_session

router = APIRouter(
    prefix="/v1/dossiers",
    tags=["dossier slips"],
    route_class=CommitRoute,
    responses=PROBLEM_RESPONSES,
)

PDF = "application/pdf"


def settings_of(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


def _wants_pdf(format: str | None, accept: str | None) -> bool:
    if format is not None:
        return format == "pdf"
    return accept is not None and PDF in accept.lower()


@router.get(
    "/{code}/slips/{kind}",
    response_model=Slip,
    summary="A slip of a dossier",
    description=(
        "Phiếu theo Thông tư 01/2018/TT-VPCP của hồ sơ: `receipt` (giấy tiếp nhận hồ sơ và hẹn "
        "trả kết quả), `supplement-request` (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ), `refusal` "
        "(phiếu từ chối tiếp nhận giải quyết hồ sơ). Trả JSON, hoặc PDF để in cho người nộp khi "
        "`Accept: application/pdf` hay `?format=pdf`; PDF có mã QR mở trang tra cứu hồ sơ. "
        "Người xem hồ sơ được thì xem được phiếu; hồ sơ ngoài phạm vi trả 404; phiếu chưa được "
        "lập ở trạng thái hiện tại (ví dụ phiếu từ chối của hồ sơ đã tiếp nhận) trả 409."
    ),
    responses={
        200: {
            "description": "phiếu (JSON) hoặc bản in (PDF)",
            "content": {
                "application/json": {"example": RECEIPT_EXAMPLE},
                PDF: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **problem_responses(DossierNotFound, SlipNotIssued),
    },
)
async def get_slip(
    code: str,
    kind: SlipKind,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    settings: Annotated[IntakeSettings, Depends(settings_of)],
    format: Annotated[
        Literal["json", "pdf"] | None,
        Query(description="json (mặc định) hoặc pdf; ưu tiên hơn tiêu đề Accept"),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ReceiptSlip | SupplementRequestSlip | RefusalSlip | Response:
    slip = await service.slip(session, principal, code, kind, settings.public_lookup_url)
    if not _wants_pdf(format, accept):
        return slip
    content = render_pdf(slip_document(slip))
    return Response(
        content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{kind}-{slip.dossier_code}.pdf"',
            # The same slip renders to the same bytes, so the hash is a stable validator.
            "ETag": f'"{hashlib.sha256(content).hexdigest()[:32]}"',
            "Vary": "Accept",
        },
    )
