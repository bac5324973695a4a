"""Signed electronic results: downloading a case's result, and checking any copy of one.

Verification is public on purpose: whoever holds the file of a result (the applicant, a bank,
another agency handed a copy) can learn whether it is intact, who signed it, and whether it is
a result this system issued, without an account.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from shared.errors import PROBLEM_RESPONSES, Problem, invalid_request
from shared.http.commit import CommitRoute
from workflow_service.common.deps import Caller, Keys, Session, Settings
from workflow_service.results import service
from workflow_service.results.errors import PayloadTooLarge
from workflow_service.results.schemas import VerificationOut

router = APIRouter(tags=["results"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)

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
    principal: Caller,
    session: Session,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    result, dossier_code = await service.visible_result(session, case_id, principal)
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
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise PayloadTooLarge(limit)
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

    async def replay() -> AsyncGenerator[bytes, None]:
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
        raise PayloadTooLarge(limit)
    if not pdf:
        raise _no_file()
    return pdf


def _verifying(request: Request) -> asyncio.Semaphore:
    # Made on first use, inside the app's event loop, once per app.
    state = request.app.state
    if getattr(state, "verifying", None) is None:
        state.verifying = asyncio.Semaphore(CONCURRENT_VERIFICATIONS)
    slots: asyncio.Semaphore = state.verifying
    return slots


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
async def verify_result(
    request: Request, session: Session, settings: Settings, keys: Keys
) -> VerificationOut:
    pdf = await _uploaded_pdf(request, settings.result_verify_max_bytes)
    return await service.verify(session, keys, pdf, _verifying(request))
