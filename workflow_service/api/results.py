"""Signed electronic results: downloading a case's result, and checking any copy of one.

Verification is public on purpose: whoever holds the file of a result (the applicant, a bank,
another agency handed a copy) can learn whether it is intact, who signed it, and whether it is
a result this system issued, without an account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from shared.auth import Principal, current_principal
from shared.errors import PROBLEM_RESPONSES, Problem, invalid_request, not_found
from shared.runtime import db_session
from workflow_service.db import results
from workflow_service.settings import WorkflowSettings
from workflow_service.signing import Verification, verify_pdf

router = APIRouter(tags=["results"], responses=PROBLEM_RESPONSES)

Session = Annotated[AsyncSession, Depends(db_session)]
Officer = Annotated[Principal, Depends(current_principal)]

# Room for the part headers of a multipart body beside the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
# Verifying parses an uploaded PDF and its signatures in a worker thread; a few at a time keep
# a burst of public uploads from starving the officers' requests of the same process.
CONCURRENT_VERIFICATIONS = 4

PDF_RESPONSE = {
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "description": "Văn bản kết quả PDF có chữ ký số (PAdES) của cơ quan giải quyết",
}


@router.get(
    "/v1/cases/{case_id}/result",
    summary="Download the signed result of a case",
    description=(
        "Kết quả giải quyết hồ sơ dạng điện tử: tệp PDF có chữ ký số của cơ quan giải quyết, "
        "phát hành khi hồ sơ được giải quyết hoặc từ chối có lý do. `ETag` là mã SHA-256 của "
        "tệp; gửi `If-None-Match` để nhận 304 khi tệp không đổi. Người nộp (vai trò applicant) "
        "tải kết quả của chính mình; hồ sơ của người khác, ngoài phạm vi đơn vị của cán bộ, hoặc "
        "chưa có kết quả điện tử trả 404."
    ),
    response_class=Response,
    responses={200: PDF_RESPONSE, 304: {"description": "Không thay đổi"}},
)
async def download_result(
    case_id: uuid.UUID,
    principal: Officer,
    session: Session,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    found = await results.visible_result(session, case_id, principal)
    if found is None:
        raise not_found("signed result", "kết quả điện tử có ký số của hồ sơ")
    result, dossier_code = found
    etag = f'"{result.sha256}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    filename = f"ket-qua-{dossier_code}.pdf"
    headers["Content-Disposition"] = (
        f'attachment; filename="{filename.encode("ascii", "replace").decode()}"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    return Response(result.pdf, media_type="application/pdf", headers=headers)


class VerificationOut(BaseModel):
    """Kết quả kiểm tra chữ ký số của một văn bản kết quả."""

    valid: bool = Field(description="hợp lệ: còn nguyên vẹn và do cơ quan được tin cậy ký")
    intact: bool = Field(description="toàn vẹn: không bị sửa đổi sau khi ký")
    trusted: bool = Field(description="chứng thư số của người ký do tổ chức tin cậy cấp")
    failure: str | None = Field(
        None,
        description=(
            "mã lý do không hợp lệ: not_pdf, unsigned, malformed_signature, tampered, "
            "modified_after_signing, revoked, untrusted"
        ),
    )
    reason: str | None = Field(None, description="lý do không hợp lệ (tiếng Anh)")
    reason_vi: str | None = Field(None, description="lý do không hợp lệ")
    signer_name: str | None = Field(None, description="tên cơ quan, người ký trên chứng thư số")
    signer_agency: str | None = Field(None, description="mã cơ quan ký (tổ chức trên chứng thư)")
    signed_at: dt.datetime | None = Field(None, description="thời điểm ký ghi trong chữ ký")
    signature_count: int = Field(description="số chữ ký trong văn bản")
    sha256: str = Field(description="mã băm SHA-256 của tệp được gửi lên")
    known_result: bool = Field(description="tệp trùng khớp một kết quả do hệ thống phát hành")
    case_id: uuid.UUID | None = Field(None, description="hồ sơ xử lý của kết quả, khi biết")
    dossier_code: str | None = Field(None, description="mã hồ sơ của kết quả, khi biết")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "valid": True,
                    "intact": True,
                    "trusted": True,
                    "failure": None,
                    "reason": None,
                    "reason_vi": None,
                    "signer_name": "Bộ phận Một cửa Phường Hoàn Kiếm",
                    "signer_agency": "motcua-00070",
                    "signed_at": "2026-03-12T10:00:00+07:00",
                    "signature_count": 1,
                    "sha256": "9f2c6a0e4b1d7c3e5a8f0b2d4c6e8a0b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f",
                    "known_result": True,
                    "case_id": "6f1c2b7e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
                    "dossier_code": "00070-260305-0001",
                },
                {
                    "valid": False,
                    "intact": False,
                    "trusted": True,
                    "failure": "tampered",
                    "reason": "The document was altered after signing: its hash does not "
                    "match the signature.",
                    "reason_vi": "Nội dung tài liệu đã bị thay đổi sau khi ký: mã băm không "
                    "khớp với chữ ký.",
                    "signer_name": "Bộ phận Một cửa Phường Hoàn Kiếm",
                    "signer_agency": "motcua-00070",
                    "signed_at": "2026-03-12T10:00:00+07:00",
                    "signature_count": 1,
                    "sha256": "0b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f9f2c6a0e4b1d7c3e5a8f0b2d4c6e8a",
                    "known_result": False,
                    "case_id": None,
                    "dossier_code": None,
                },
            ]
        }
    }


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "payload-too-large",
        "The file is too large",
        "Tệp quá lớn",
        detail=f"A document to verify may be at most {limit} bytes",
        detail_vi=f"Văn bản cần kiểm tra tối đa {limit} byte",
    )


def _no_file() -> Problem:
    return invalid_request(
        [
            {
                "field": "body.file",
                "message": "a multipart body must carry the PDF in a file field named 'file'",
                "message_vi": "tệp PDF phải được gửi trong trường tệp có tên 'file'",
            }
        ]
    )


async def _read_capped(request: Request, cap: int, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _uploaded_pdf(request: Request, limit: int) -> bytes:
    """The document sent: the raw body, or the ``file`` field of a multipart form. Nothing sent
    is no document at all, a 422 rather than a verdict on an empty file."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        pdf = await _read_capped(request, limit, limit)
        if not pdf:
            raise _no_file()
        return pdf
    body = await _read_capped(request, limit + FORM_OVERHEAD_BYTES, limit)

    async def replay() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(request.headers, replay(), max_files=1, max_fields=10).parse()
    except MultiPartException as exc:
        raise _no_file() from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise _no_file()
    try:
        pdf = await upload.read()
    finally:
        await form.close()
    if len(pdf) > limit:
        raise _too_large(limit)
    if not pdf:
        raise _no_file()
    return pdf


def _verifying(request: Request) -> asyncio.Semaphore:
    # Made on first use, inside the app's event loop, once per app.
    state = request.app.state
    if getattr(state, "verifying", None) is None:
        state.verifying = asyncio.Semaphore(CONCURRENT_VERIFICATIONS)
    return state.verifying


@router.post(
    "/v1/results/verify",
    response_model=VerificationOut,
    summary="Verify a signed result",
    description=(
        "Kiểm tra văn bản kết quả điện tử: tệp còn nguyên vẹn không, ai ký, chứng thư số có do "
        "tổ chức tin cậy cấp, và có đúng là kết quả do hệ thống phát hành (so mã SHA-256). "
        "Không cần đăng nhập. Gửi tệp làm thân yêu cầu (`Content-Type: application/pdf`) hoặc "
        "biểu mẫu `multipart/form-data` với trường `file`. Tệp không phải PDF hay không có chữ "
        "ký vẫn trả 200 với `valid=false` và lý do; tệp quá giới hạn trả 413."
    ),
    responses={413: {**PROBLEM_RESPONSES[422], "description": "Payload too large — tệp quá lớn"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def verify_result(request: Request, session: Session) -> VerificationOut:
    settings: WorkflowSettings = request.app.state.settings
    keys: results.SigningKeys = request.app.state.signing_keys
    pdf = await _uploaded_pdf(request, settings.result_verify_max_bytes)
    async with _verifying(request):
        roots = await asyncio.to_thread(keys.trust_roots)
        verification: Verification = await asyncio.to_thread(verify_pdf, pdf, roots)
    known = await results.known_result(session, verification.sha256)
    return VerificationOut(
        valid=verification.valid,
        intact=verification.intact,
        trusted=verification.trusted,
        failure=verification.failure.value if verification.failure else None,
        reason=verification.reason,
        reason_vi=verification.reason_vi,
        signer_name=verification.signer_name,
        signer_agency=verification.signer_agency,
        signed_at=verification.signed_at,
        signature_count=verification.signature_count,
        sha256=verification.sha256,
        known_result=known is not None,
        case_id=known.case_id if known else None,
        dossier_code=known.dossier_code if known else None,
    )
