"""Documents of a dossier (thành phần hồ sơ) over HTTP: parse the body (a streamed multipart
upload or a JSON declaration), call one service function, shape the answer (a file streams)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from intake_service.db.blob_store import BlobStore
from intake_service.documents import service
from intake_service.documents.errors import (
    ContentMissing,
    LengthRequired,
    NoContent,
    PayloadTooLarge,
    UnsupportedBody,
    UnsupportedDocumentType,
)
from intake_service.documents.schemas import (
    ConsentIn,
    ConsentOut,
    DocumentAttachedOut,
    DocumentReferenceIn,
    DossierDocumentsOut,
    LookupConsentIn,
    ReusableDocumentPage,
    ReuseIn,
    UploadFieldsIn,
)
from intake_service.domain.documents import ACCEPTED_CONTENT_TYPES
from intake_service.lookup.deps import ClientAddress, GuardDep
from intake_service.lookup.errors import LookupLocked, LookupNotFound, TooManyLookups
from intake_service.settings import IntakeSettings
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, RATE_LIMITED_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Caller as PrincipalDep
from shared.http.deps import Cursor, RuntimeDep, Session

router = APIRouter(tags=["documents"], route_class=CommitRoute, responses=PROBLEM_RESPONSES)

# Room for the part headers and the text fields of a multipart body beside the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
JSON_BODY_MAX_BYTES = 64 * 1024

DossierCode = Annotated[str, Path(max_length=40, description="mã hồ sơ")]


def settings_of(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


def blob_store(request: Request) -> BlobStore:
    settings = settings_of(request)
    return BlobStore(settings.blob_dir, settings.blob_max_bytes)


SettingsDep = Annotated[IntakeSettings, Depends(settings_of)]
StoreDep = Annotated[BlobStore, Depends(blob_store)]


# ----- request bodies -------------------------------------------------------------------------


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> RequestValidationError:
    # Reported like FastAPI's own body validation, so every 422 names its fields the same way.
    errors = [{**e, "loc": (*prefix, *e.get("loc", ()))} for e in exc.errors()]
    return RequestValidationError(errors)


def _parse(model: type[BaseModel], data: Any, *, json: bool = False) -> Any:
    try:
        return model.model_validate_json(data) if json else model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


async def _capped_body(request: Request, cap: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise PayloadTooLarge(cap)
    return bytes(body)


def _declared_length(request: Request) -> int:
    raw = request.headers.get("content-length")
    if raw is None or not raw.isdigit():
        raise LengthRequired()
    return int(raw)


# ----- routes ---------------------------------------------------------------------------------

_UPLOAD_SCHEMA = UploadFieldsIn.model_json_schema()
_UPLOAD_SCHEMA["properties"] = {
    "file": {"type": "string", "format": "binary", "description": "tệp giấy tờ (bản scan, PDF…)"},
    **_UPLOAD_SCHEMA["properties"],
}
_UPLOAD_SCHEMA["required"] = ["file", *_UPLOAD_SCHEMA.get("required", [])]


@router.post(
    "/v1/dossiers/{code}/documents",
    status_code=201,
    response_model=DocumentAttachedOut,
    summary="Attach a document to a dossier",
    description=(
        "Nộp một thành phần hồ sơ. `multipart/form-data`: trường `file` (tệp) và `component` "
        "(tên thành phần như trong danh mục thủ tục hoặc số thứ tự từ 1), tùy chọn `kind` "
        "(loại giấy tờ) và `valid_until` (hiệu lực đến ngày). `application/json`: khai báo "
        "thành phần không kèm tệp — tham chiếu tới bản điện tử đã có (`source: reference`) "
        "hoặc bản giấy nộp tại Bộ phận Một cửa (`source: paper`).\n\n"
        "Cán bộ tiếp nhận của đơn vị hoặc chính người nộp hồ sơ được thêm giấy tờ. Tệp do cán "
        "bộ tải lên tại quầy được tính là đã số hóa; tệp công dân tải lên chờ cán bộ xác nhận "
        "số hóa. Khi mọi thành phần bắt buộc đã số hóa, sự kiện `dossier.digitised` được phát. "
        "Tệp trùng nội dung chỉ lưu một lần. Hồ sơ đã từ chối, đã rút hoặc đã trả kết quả: 409."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _UPLOAD_SCHEMA,
                    "example": {
                        "component": "Giấy tờ chứng minh chỗ ở hợp pháp",
                        "kind": "hop-dong-thue-nha",
                        "valid_until": "2027-12-31",
                    },
                },
                "application/json": {
                    "schema": DocumentReferenceIn.model_json_schema(),
                    "example": {
                        "component": "Giấy tờ chứng minh chỗ ở hợp pháp",
                        "source": "reference",
                        "reference": "https://dichvucong.gov.vn/kho-du-lieu/001090012345/hd-thue-nha",
                    },
                },
            },
        },
    },
    responses=problem_responses(
        PayloadTooLarge, LengthRequired, UnsupportedBody, UnsupportedDocumentType
    ),
)
async def attach_document(
    code: DossierCode,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: Session,
    runtime: RuntimeDep,
    settings: SettingsDep,
    store: StoreDep,
    now: Now,
) -> DocumentAttachedOut:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        # Refused before the body is read: an oversized upload costs neither disk nor time.
        if _declared_length(request) > store.max_bytes + FORM_OVERHEAD_BYTES:
            raise PayloadTooLarge(store.max_bytes)
        async with request.form(
            max_files=1, max_fields=8, max_part_size=FORM_OVERHEAD_BYTES
        ) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise service.field_error(
                    "body.file", "a file part named 'file' is required", "thiếu tệp (trường 'file')"
                )
            fields: UploadFieldsIn = _parse(
                UploadFieldsIn, {k: v for k, v in form.multi_items() if k != "file"}
            )
            out = await service.attach_upload(
                session, runtime, store, principal, code, upload, fields, now
            )
    elif media == "application/json":
        raw = await _capped_body(request, JSON_BODY_MAX_BYTES)
        body: DocumentReferenceIn = _parse(DocumentReferenceIn, raw, json=True)
        out = await service.attach_reference(session, runtime, settings, principal, code, body, now)
    else:
        raise UnsupportedBody()
    response.headers["Location"] = f"/v1/documents/{out.id}"
    return out


@router.post(
    "/v1/dossiers/{code}/documents/reuse",
    status_code=201,
    response_model=DocumentAttachedOut,
    summary="Reuse an earlier digitised document",
    description=(
        "Tái sử dụng giấy tờ đã số hóa của chính người nộp cho một thành phần hồ sơ, không phải "
        "nộp lại (Nghị định 45/2020/NĐ-CP). Người nộp dùng lại giấy tờ của mình; cán bộ tiếp "
        "nhận của đơn vị chỉ khi người nộp đã đồng ý (`document_reuse_consent`), nếu không: 403. "
        "Mỗi lần cán bộ tái sử dụng được ghi vào lịch sử hồ sơ. Giấy tờ không có hoặc của người "
        "khác: 404. Bị từ chối (422) khi giấy tờ khác loại với thành phần hồ sơ, chưa được số "
        "hóa, hoặc đã hết hiệu lực (theo ngày hiện tại)."
    ),
)
async def reuse_document(
    code: DossierCode,
    body: ReuseIn,
    response: Response,
    principal: PrincipalDep,
    session: Session,
    runtime: RuntimeDep,
    settings: SettingsDep,
    now: Now,
) -> DocumentAttachedOut:
    out = await service.reuse(session, runtime, settings, principal, code, body, now)
    response.headers["Location"] = f"/v1/documents/{out.id}"
    return out


@router.get(
    "/v1/dossiers/{code}/documents",
    response_model=DossierDocumentsOut,
    summary="List a dossier's documents",
    description=(
        "Giấy tờ của hồ sơ, kèm các thành phần hồ sơ bắt buộc theo phiên bản thủ tục khi nộp, "
        "thành phần còn thiếu và cờ `input_digitised` (hồ sơ đầu vào đã số hóa đủ)."
    ),
)
async def list_documents(
    code: DossierCode,
    principal: PrincipalDep,
    session: Session,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> DossierDocumentsOut:
    return await service.list_documents(session, principal, code, cursor, limit)


@router.get(
    "/v1/documents/{document_id}/content",
    summary="Download a document's file",
    description=(
        "Tải tệp của giấy tờ, đúng kiểu nội dung đã nộp. `ETag` là mã băm SHA-256 của tệp; "
        "gửi `If-None-Match` để nhận 304 khi tệp không đổi. Giấy tờ không kèm tệp (tham chiếu, "
        "bản giấy): 404."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in [*ACCEPTED_CONTENT_TYPES, "application/octet-stream"]
            },
            "description": "nội dung tệp, đúng kiểu đã nộp",
        },
        304: {"description": "Not modified — tệp không đổi"},
        **problem_responses(NoContent, ContentMissing),
    },
)
async def download_document(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: Session,
    store: StoreDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    found = await service.download(session, store, principal, document_id, if_none_match)
    headers = {
        "ETag": found.etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if found.chunks is None:
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(found.size)
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(found.filename)}"
    return StreamingResponse(found.chunks, media_type=found.content_type, headers=headers)


@router.post(
    "/v1/documents/{document_id}/digitise",
    response_model=DocumentAttachedOut,
    summary="Mark a document digitised",
    description=(
        "Cán bộ tiếp nhận của đơn vị xác nhận thành phần hồ sơ đã được số hóa (bản giấy đã scan, "
        "tệp công dân nộp đã kiểm tra), ghi lại người và thời điểm. Gọi lại khi đã số hóa không "
        "thay đổi gì."
    ),
)
async def digitise_document(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: Session,
    runtime: RuntimeDep,
    now: Now,
) -> DocumentAttachedOut:
    return await service.digitise(session, runtime, principal, document_id, now)


@router.get(
    "/v1/dossiers/{code}/reusable-documents",
    response_model=ReusableDocumentPage,
    summary="Earlier documents the dossier's applicant may reuse",
    description=(
        "Giấy tờ đã số hóa trong các hồ sơ khác của người nộp hồ sơ này, mới nhất trước, để tái "
        "sử dụng (`POST …/documents/reuse`). Người nộp xem giấy tờ của chính mình. Cán bộ đang "
        "giải quyết hồ sơ (tiếp nhận, xử lý, phê duyệt) của đơn vị mình xem khi người nộp đã "
        "đồng ý (`document_reuse_consent`, khi nộp hoặc sau đó): không đồng ý 403, hồ sơ ngoài "
        "phạm vi 404, hồ sơ đã kết thúc 409. Mỗi lần cán bộ xem được ghi vào lịch sử hồ sơ. "
        "Giấy tờ hết hiệu lực được đánh dấu `expired` và không tái sử dụng được. Lọc theo `kind`."
    ),
)
async def reusable_documents(
    code: DossierCode,
    principal: PrincipalDep,
    session: Session,
    settings: SettingsDep,
    now: Now,
    kind: Annotated[
        str | None,
        Query(
            max_length=128,
            pattern=r"^[a-z0-9][a-z0-9-]*$",
            description="loại giấy tờ, ví dụ giay-to-tuy-than",
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReusableDocumentPage:
    return await service.reusable_documents(
        session, settings, principal, code, kind, cursor, limit, now
    )


@router.put(
    "/v1/dossiers/{code}/document-reuse-consent",
    response_model=ConsentOut,
    summary="Consent to the reuse of earlier documents",
    description=(
        "Người nộp đồng ý (`granted: true`) hoặc rút lại đồng ý (`false`) cho cán bộ giải quyết "
        "hồ sơ này xem và tái sử dụng giấy tờ đã số hóa trước đây của mình. Chỉ chính người nộp; "
        "người khác: 403. Mỗi thay đổi được ghi vào lịch sử hồ sơ; gửi lại cùng giá trị không "
        "thay đổi gì."
    ),
)
async def consent_to_reuse(
    code: DossierCode,
    body: ConsentIn,
    principal: PrincipalDep,
    session: Session,
    now: Now,
) -> ConsentOut:
    return await service.consent(session, principal, code, body.granted, now)


@router.put(
    "/v1/lookup/{code}/document-reuse-consent",
    response_model=ConsentOut,
    tags=["lookup"],
    responses={
        **RATE_LIMITED_RESPONSES,
        **problem_responses(LookupNotFound, TooManyLookups, LookupLocked),
    },
    summary="Consent to the reuse of earlier documents, through the public lookup",
    description=(
        "Như trên, không cần đăng nhập: mã hồ sơ và thông tin xác minh (4 số cuối số định danh "
        "/ mã số thuế hoặc số điện thoại) trong nội dung yêu cầu, không trên đường dẫn. Mã hoặc "
        "thông tin xác minh sai: 404; cùng giới hạn số lần như tra cứu (429)."
    ),
)
async def consent_to_reuse_by_lookup(
    code: Annotated[str, Path(min_length=1, max_length=40, description="mã hồ sơ")],
    body: LookupConsentIn,
    guard: GuardDep,
    client: ClientAddress,
    session: Session,
    now: Now,
) -> ConsentOut:
    return await service.consent_by_lookup(session, guard, client, code, body, now)
