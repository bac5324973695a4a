"""The slips a dossier's applicant is given: receipt and appointment, supplement request, refusal
(Circular 01/2018/TT-VPCP), as JSON for the system or as a printable PDF."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import repository
from intake_service.db.models import Document, Unit
from intake_service.domain.slips import (
    SLIP_TITLES_VI,
    AttachedDocument,
    DossierSnapshot,
    ProcedureSnapshot,
    ReceiptSlip,
    RefusalSlip,
    Slip,
    SlipKind,
    SlipNotIssued,
    SupplementRequestSlip,
    UnitSnapshot,
    build_slip,
    slip_document,
    status_label_vi,
)
from shared.auth import Principal, current_principal
from shared.errors import PROBLEM_RESPONSES, Problem, not_found
from shared.pdf import render_pdf
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(prefix="/v1/dossiers", tags=["dossier slips"], responses=PROBLEM_RESPONSES)

PDF = "application/pdf"

SLIP_TITLES_EN = {
    SlipKind.receipt: "receipt and appointment slip",
    SlipKind.supplement_request: "supplement request slip",
    SlipKind.refusal: "refusal slip",
}

RECEIPT_EXAMPLE = {
    "kind": "receipt",
    "title_vi": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "dossier_code": "00070-260305-0001",
    "issued_at": "2026-03-05T02:30:00Z",
    "applicant": {
        "name": "Nguyễn Thị Lan",
        "kind": "citizen",
        "address": "Số 5 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
        "phone": "0912345678",
    },
    "procedure_code": "1.004222",
    "procedure_name": "Đăng ký thường trú",
    "procedure_version": 1,
    "unit": {"code": "00070", "name": "Phường Hoàn Kiếm", "desk_name": "Bộ phận Một cửa"},
    "officer": "cb.tiepnhan.00070",
    "channel": "direct",
    "channel_label_vi": "Trực tiếp tại Bộ phận Một cửa",
    "lookup_url": "https://dichvucong.hanoi.gov.vn/tra-cuu/00070-260305-0001",
    "received_at": "2026-03-05T02:30:00Z",
    "appointment_at": "2026-03-16T02:30:00Z",
    "processing_working_days": 7,
    "components": [
        {"name": "Tờ khai thay đổi thông tin cư trú", "digitised": True},
        {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "digitised": False},
    ],
    "fee_amount_vnd": 20000,
}


def _wants_pdf(format: str | None, accept: str | None) -> bool:
    if format is not None:
        return format == "pdf"
    return accept is not None and PDF in accept.lower()


def _not_issued(exc: SlipNotIssued) -> Problem:
    return Problem(
        409,
        "slip-not-issued",
        "No such slip was issued for this dossier",
        "Hồ sơ chưa có phiếu này",
        detail=f"The dossier is {exc.status}; no {SLIP_TITLES_EN[exc.kind]} was issued for it",
        detail_vi=(
            f"Hồ sơ đang ở trạng thái '{status_label_vi(exc.status)}', "
            f"chưa có {SLIP_TITLES_VI[exc.kind].lower()}"
        ),
    )


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
        }
    },
)
async def get_slip(
    code: str,
    kind: SlipKind,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    runtime: Annotated[Runtime, Depends(runtime_of)],
    format: Annotated[
        Literal["json", "pdf"] | None,
        Query(description="json (mặc định) hoặc pdf; ưu tiên hơn tiêu đề Accept"),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ReceiptSlip | SupplementRequestSlip | RefusalSlip | Response:
    async with session.begin():
        dossier = await repository.dossier_by_code(session, code, principal)
        if dossier is None:
            raise not_found("dossier", "hồ sơ")
        procedure = await repository.procedure_as_received(session, dossier)
        history = await repository.history(session, dossier.id)
        unit = await session.get(Unit, dossier.unit_code)
        assert unit is not None
        documents = (
            await session.scalars(
                select(Document)
                .where(Document.dossier_id == dossier.id)
                .order_by(Document.created_at, Document.id)
            )
        ).all()
    try:
        slip = build_slip(
            kind,
            DossierSnapshot(
                code=dossier.code,
                status=dossier.status,
                channel=dossier.channel,
                applicant=dossier.applicant,
                fee_amount_vnd=dossier.fee_amount_vnd,
                received_at=dossier.received_at,
                appointment_at=dossier.appointment_at,
                representative=dossier.representative,
            ),
            ProcedureSnapshot(
                key=procedure.key,
                code=procedure.code,
                name=procedure.name,
                version=procedure.version,
                processing_working_days=procedure.processing_working_days,
                data=procedure.data,
            ),
            history,
            UnitSnapshot(code=unit.code, name=unit.name, level=unit.level),
            runtime.settings.public_lookup_url,  # type: ignore[attr-defined]
            [AttachedDocument(component=d.component, digitised=d.digitised) for d in documents],
        )
    except SlipNotIssued as exc:
        raise _not_issued(exc) from exc
    if not _wants_pdf(format, accept):
        return slip
    content = render_pdf(slip_document(slip))
    return Response(
        content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{kind}-{dossier.code}.pdf"',
            # The same slip renders to the same bytes, so the hash is a stable validator.
            "ETag": f'"{hashlib.sha256(content).hexdigest()[:32]}"',
            "Vary": "Accept",
        },
    )
