"""The process control sheet of a case, as JSON or as a printable PDF."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute
from workflow_service.common.deps import Caller, Session
from workflow_service.common.documents import (
    PDF_RESPONSES,
    AcceptHeader,
    FormatQuery,
    pdf_response,
    wants_pdf,
)
from workflow_service.control_sheet import service
from workflow_service.control_sheet.schemas import ControlSheetRow

router = APIRouter(
    prefix="/v1/cases", tags=["cases"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


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
    principal: Caller,
    session: Session,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
) -> list[ControlSheetRow] | Response:
    if wants_pdf(format, accept):
        dossier_code, document = await service.document(session, case_id, principal)
        return pdf_response(document, f"kiem-soat-{dossier_code}.pdf")
    return await service.rows(session, case_id, principal)
