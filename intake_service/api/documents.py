"""Documents of a dossier (thành phần hồ sơ): upload, reference, reuse, digitise, download.

Every change locks the dossier's row and is one transaction; the change that makes the dossier
input-digitised also writes ``DossierDigitised`` to the outbox in that transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from intake_service.api.documents_schemas import (
    ComponentStatus,
    ConsentIn,
    ConsentOut,
    DocumentAttachedOut,
    DocumentOut,
    DocumentReferenceIn,
    DossierDocumentsOut,
    LookupConsentIn,
    ReusableDocumentOut,
    ReusableDocumentPage,
    ReuseIn,
    UploadFieldsIn,
)
from intake_service.api.lookup import GuardDep, client_address
from intake_service.db import documents as store_rows
from intake_service.db import repository
from intake_service.db.blob_store import BlobMissing, BlobStore, BlobTooLarge, StoredBlob
from intake_service.db.models import Blob, Document, Dossier, Procedure
from intake_service.domain.documents import (
    ACCEPTED_CONTENT_TYPES,
    CLOSED_STATUSES,
    DIGITISING_ROLES,
    REUSE_READING_ROLES,
    REUSE_REFUSALS,
    SNIFF_BYTES,
    SOURCE_LABELS_VI,
    Component,
    ContentRefusal,
    DocumentAudit,
    DocumentFacts,
    DocumentSource,
    ReuseAccessRefusal,
    ReuseRefusal,
    acts_as_desk,
    became_input_digitised,
    checked_content_type,
    digitised_on_arrival,
    is_applicant_of,
    is_expired,
    is_input_digitised,
    kind_slug,
    match_component,
    may_attach,
    may_consent_by_lookup,
    may_give_consent,
    missing_components,
    reference_refusal,
    required_components,
    reuse_access_refusal,
    reuse_refusal,
)
from intake_service.settings import IntakeSettings
from shared.auth import Principal, current_principal
from shared.calendar import VN_TZ
from shared.clock import Now
from shared.errors import (
    PROBLEM_RESPONSES,
    RATE_LIMITED_RESPONSES,
    Problem,
    forbidden,
    invalid_request,
    not_found,
)
from shared.events import DossierDigitised
from shared.runtime import Runtime, db_session, runtime_of

log = structlog.get_logger(__name__)

router = APIRouter(tags=["documents"], responses=PROBLEM_RESPONSES)

# Room for the part headers and the text fields of a multipart body beside the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
JSON_BODY_MAX_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+"
    r'(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$'
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

PrincipalDep = Annotated[Principal, Depends(current_principal)]
SessionDep = Annotated[AsyncSession, Depends(db_session)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def blob_store(request: Request) -> BlobStore:
    settings: IntakeSettings = request.app.state.settings
    return BlobStore(settings.blob_dir, settings.blob_max_bytes)


StoreDep = Annotated[BlobStore, Depends(blob_store)]
# Makes the new document (storing its bytes first, when it has any) for the locked dossier:
# (dossier, matched component, caller acts as the desk's officer, now) -> (document, its blob).
BuildDocument = Callable[
    [Dossier, Component, bool, dt.datetime], Awaitable[tuple[Document, Blob | None]]
]


# ----- problems -------------------------------------------------------------------------------


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "payload-too-large",
        "The file is too large",
        "Tệp quá lớn",
        detail=f"A document may be at most {limit} bytes",
        detail_vi=f"Mỗi tệp tối đa {limit} byte",
    )


def _unknown_component(field: str, components: Sequence[Component]) -> Problem:
    names = "; ".join(f"{c.index}. {c.name}" for c in components) or "none"
    return Problem(
        422,
        "unknown-component",
        "The procedure has no such component",
        "Thủ tục không có thành phần hồ sơ này",
        detail=f"Components of this procedure: {names}",
        detail_vi=f"Thành phần hồ sơ của thủ tục: {names}",
        errors=[
            {
                "field": field,
                "message": "not a component of the procedure (by name or number)",
                "message_vi": "không phải thành phần hồ sơ của thủ tục (theo tên hoặc số thứ tự)",
            }
        ],
    )


def _closed(dossier: Dossier) -> Problem:
    return Problem(
        409,
        "dossier-closed",
        "The dossier is closed",
        "Hồ sơ đã kết thúc",
        detail=f"Documents cannot change while the dossier is {dossier.status}",
        detail_vi="Không thể thay đổi giấy tờ của hồ sơ đã từ chối, đã rút hoặc đã trả kết quả",
    )


_ACCEPTED_LIST = ", ".join(ACCEPTED_CONTENT_TYPES)


def _unsupported_media_type() -> Problem:
    return Problem(
        415,
        "unsupported-media-type",
        "This type of file is not accepted",
        "Không chấp nhận loại tệp này",
        detail=f"A document is sent as one of: {_ACCEPTED_LIST}",
        detail_vi=f"Giấy tờ phải là một trong các loại tệp: {_ACCEPTED_LIST}",
    )


def _content_mismatch(declared: str) -> Problem:
    return Problem(
        422,
        "content-type-mismatch",
        "The file is not what its type says",
        "Nội dung tệp không đúng loại tệp đã khai báo",
        detail=f"The file was declared {declared}, but its content is not of that type",
        detail_vi="Nội dung tệp không khớp với loại tệp khai báo (ví dụ tệp chương trình đặt tên .pdf)",
        errors=[
            {
                "field": "body.file",
                "message": "the content does not match the declared content type",
                "message_vi": "nội dung tệp không khớp với loại tệp khai báo",
            }
        ],
    )


def _unsafe_reference(document: Document, settings: IntakeSettings) -> bool:
    return bool(document.reference) and (
        reference_refusal(document.reference or "", settings.document_reference_hosts) is not None
    )


def _reuse_forbidden(refusal: ReuseAccessRefusal) -> Problem:
    if refusal == ReuseAccessRefusal.consent:
        return Problem(
            403,
            "reuse-consent-required",
            "The applicant has not consented to the reuse of their documents",
            "Người nộp chưa đồng ý cho tái sử dụng giấy tờ đã số hóa",
            detail="The applicant consents at submission, in their account or through the lookup",
            detail_vi="Người nộp đồng ý khi nộp hồ sơ, trong tài khoản của mình hoặc qua tra cứu",
        )
    return forbidden(
        "only the applicant, or an officer handling the dossier "
        f"({', '.join(sorted(REUSE_READING_ROLES))}), sees earlier documents"
    )


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> RequestValidationError:
    # Reported like FastAPI's own body validation, so every 422 names its fields the same way.
    errors = [{**e, "loc": (*prefix, *e.get("loc", ()))} for e in exc.errors()]
    return RequestValidationError(errors)


def _field_error(field: str, message: str, message_vi: str) -> Problem:
    return invalid_request([{"field": field, "message": message, "message_vi": message_vi}])


# ----- shared steps ---------------------------------------------------------------------------


def _acts_as_officer(principal: Principal, dossier: Dossier) -> bool:
    return acts_as_desk(principal, dossier.unit_path)


def _is_own(principal: Principal, dossier: Dossier) -> bool:
    return is_applicant_of(principal, dossier.applicant_id_number)


def _may_attach(principal: Principal, dossier: Dossier) -> bool:
    return may_attach(
        principal,
        unit_path=dossier.unit_path,
        applicant_id_number=dossier.applicant_id_number,
        representative_id_number=dossier.representative_id_number,
        submitted_by=dossier.submitted_by,
    )


async def _open_dossier(session: AsyncSession, code: str, principal: Principal) -> Dossier:
    """The dossier, locked for this transaction, when the caller may attach to it."""
    dossier = await repository.dossier_by_code(session, code, principal, for_update=True)
    if dossier is None:
        raise not_found("dossier", "hồ sơ")
    if not _may_attach(principal, dossier):
        raise forbidden(
            "only the desk of the dossier's unit, its applicant or the system that submitted it "
            "adds documents"
        )
    if dossier.status in CLOSED_STATUSES:
        raise _closed(dossier)
    return dossier


async def _component(
    session: AsyncSession, dossier: Dossier, given: str, field: str
) -> tuple[Procedure, list[Component], Component]:
    procedure = await repository.procedure_as_received(session, dossier)
    components = required_components(procedure.data)
    component = match_component(components, given)
    if component is None:
        raise _unknown_component(field, components)
    return procedure, components, component


async def _publish_if_digitised(
    session: AsyncSession,
    runtime: Runtime,
    dossier: Dossier,
    procedure: Procedure,
    components: list[Component],
    before: list[DocumentFacts],
    after: list[DocumentFacts],
    principal: Principal,
    now: dt.datetime,
) -> bool:
    """Publish ``DossierDigitised`` when this change completes the dossier; returns whether the
    dossier is input-digitised now."""
    if became_input_digitised(components, before, after):
        event = DossierDigitised(
            dossier_id=dossier.id,
            dossier_code=dossier.code,
            procedure_code=procedure.code or procedure.key,
            unit_code=dossier.unit_code,
            unit_path=dossier.unit_path,
            channel=dossier.channel,  # type: ignore[arg-type]
            at=now,
            actor=principal.sub,
            components=[c.name for c in components],
        )
        await runtime.outbox.add(session, event, subject=dossier.code)
    return is_input_digitised(components, after)


def _document_out(document: Document, blob: Blob | None) -> dict[str, Any]:
    return {
        "id": document.id,
        "dossier_id": document.dossier_id,
        "component": document.component,
        "kind": document.kind,
        "source": document.source,
        "source_label_vi": SOURCE_LABELS_VI.get(DocumentSource(document.source), document.source),
        "sha256": document.sha256,
        "size": blob.size if blob else None,
        "content_type": blob.content_type if blob else None,
        "filename": document.filename,
        "reference": document.reference,
        "reused_from": document.reused_from,
        "applicant_id_number": document.applicant_id_number,
        "valid_until": document.valid_until,
        "digitised": document.digitised,
        "digitised_by": document.digitised_by,
        "digitised_at": document.digitised_at,
        "created_by": document.created_by,
        "created_at": document.created_at,
        "content_url": f"/v1/documents/{document.id}/content" if document.sha256 else None,
    }


async def _blobs(session: AsyncSession, documents: Sequence[Document]) -> dict[str, Blob]:
    shas = {d.sha256 for d in documents if d.sha256}
    if not shas:
        return {}
    rows = await session.scalars(select(Blob).where(Blob.sha256.in_(shas)))
    return {b.sha256: b for b in rows}


async def _attach(
    session: AsyncSession,
    runtime: Runtime,
    response: Response,
    code: str,
    principal: Principal,
    given_component: str,
    build: BuildDocument,
    now: dt.datetime | None = None,
) -> DocumentAttachedOut:
    """The common frame of every attachment: lock, check, add, maybe publish, answer 201.

    ``build(dossier, component, by_officer, now)`` makes the document (and stores its bytes)."""
    now = now or dt.datetime.now(dt.UTC)
    async with session.begin():
        dossier = await _open_dossier(session, code, principal)
        procedure, components, component = await _component(
            session, dossier, given_component, "body.component"
        )
        before = [store_rows.facts(d) for d in await store_rows.documents_of(session, dossier.id)]
        document, blob = await build(dossier, component, _acts_as_officer(principal, dossier), now)
        session.add(document)
        digitised = await _publish_if_digitised(
            session,
            runtime,
            dossier,
            procedure,
            components,
            before,
            [*before, store_rows.facts(document)],
            principal,
            now,
        )
    response.headers["Location"] = f"/v1/documents/{document.id}"
    return DocumentAttachedOut(**_document_out(document, blob), dossier_input_digitised=digitised)


def _new_document(
    dossier: Dossier,
    component: Component,
    kind: str | None,
    source: DocumentSource,
    by_officer: bool,
    principal: Principal,
    now: dt.datetime,
    **fields: Any,
) -> Document:
    digitised = digitised_on_arrival(source, by_officer)
    return Document(
        id=uuid.uuid4(),
        dossier_id=dossier.id,
        component=component.name,
        kind=kind or component.kind,
        source=source,
        applicant_id_number=dossier.applicant_id_number,
        digitised=digitised,
        digitised_by=principal.sub if digitised else None,
        digitised_at=now if digitised else None,
        created_by=principal.sub,
        created_at=now,
        **fields,
    )


# ----- request bodies -------------------------------------------------------------------------


def _content_type_of(upload: UploadFile) -> str:
    declared = (upload.content_type or "").strip()
    if declared and len(declared) <= 200 and _CONTENT_TYPE.match(declared):
        return declared
    return "application/octet-stream"


def _filename_of(upload: UploadFile) -> str | None:
    if not upload.filename:
        return None
    # Only the last path segment, whichever system named it; control characters would break
    # the Content-Disposition header on download.
    name = PureWindowsPath(PurePosixPath(upload.filename).name).name
    name = _CONTROL.sub("", name).strip()[:255]
    return name or None


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


async def _capped_body(request: Request, cap: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _too_large(cap)
    return bytes(body)


def _parse(model: type[BaseModel], data: Any, *, json: bool = False) -> Any:
    try:
        return model.model_validate_json(data) if json else model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _declared_length(request: Request) -> int:
    raw = request.headers.get("content-length")
    if raw is None or not raw.isdigit():
        raise Problem(
            411,
            "length-required",
            "Content-Length is required",
            "Thiếu độ dài nội dung (Content-Length)",
            detail="Uploads must declare their size, so an oversized file is refused at once",
            detail_vi="Tệp tải lên phải khai báo kích thước để tệp quá lớn bị từ chối ngay",
        )
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
        "responses": {"411": {"description": "Length required — thiếu Content-Length"}},
    },
    responses={
        413: {**PROBLEM_RESPONSES[422], "description": "Payload too large — tệp quá lớn"},
        415: {
            **PROBLEM_RESPONSES[422],
            "description": "Unsupported media type — chỉ nhận "
            + _ACCEPTED_LIST
            + " (tệp) hoặc application/json (tham chiếu, bản giấy)",
        },
    },
)
async def attach_document(
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    store: StoreDep,
) -> DocumentAttachedOut:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return await _attach_upload(code, request, response, principal, session, runtime, store)
    if media == "application/json":
        raw = await _capped_body(request, JSON_BODY_MAX_BYTES)
        body: DocumentReferenceIn = _parse(DocumentReferenceIn, raw, json=True)
        if body.reference is not None:
            settings: IntakeSettings = request.app.state.settings
            refused = reference_refusal(body.reference, settings.document_reference_hosts)
            if refused is not None:
                raise _field_error("body.reference", *refused)
        return await _attach_reference(code, body, response, principal, session, runtime)
    raise Problem(
        415,
        "unsupported-media-type",
        "Send multipart/form-data or application/json",
        "Hãy gửi multipart/form-data (kèm tệp) hoặc application/json (không kèm tệp)",
    )


async def _attach_upload(
    code: str,
    request: Request,
    response: Response,
    principal: Principal,
    session: AsyncSession,
    runtime: Runtime,
    store: BlobStore,
) -> DocumentAttachedOut:
    # Refused before the body is read: an oversized upload costs neither disk nor time.
    if _declared_length(request) > store.max_bytes + FORM_OVERHEAD_BYTES:
        raise _too_large(store.max_bytes)
    async with request.form(max_files=1, max_fields=8, max_part_size=FORM_OVERHEAD_BYTES) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _field_error(
                "body.file", "a file part named 'file' is required", "thiếu tệp (trường 'file')"
            )
        fields: UploadFieldsIn = _parse(
            UploadFieldsIn, {k: v for k, v in form.multi_items() if k != "file"}
        )

        async def build(
            dossier: Dossier, component: Component, by_officer: bool, now: dt.datetime
        ) -> tuple[Document, Blob]:
            # Judged on the first bytes before anything is stored, so a refused file leaves
            # nothing behind.
            if upload.size is not None and upload.size > store.max_bytes:
                raise _too_large(store.max_bytes)
            head = await upload.read(SNIFF_BYTES)
            await upload.seek(0)
            if not head:
                raise _field_error("body.file", "the file is empty", "tệp rỗng")
            checked = checked_content_type(_content_type_of(upload), head)
            if checked == ContentRefusal.unsupported:
                raise _unsupported_media_type()
            if checked == ContentRefusal.mismatch:
                raise _content_mismatch(_content_type_of(upload).split(";", 1)[0])
            content_type = str(checked)
            try:
                stored: StoredBlob = await store.put(_upload_chunks(upload))
            except BlobTooLarge as exc:
                raise _too_large(exc.limit) from exc
            await store_rows.record_blob(session, stored.sha256, stored.size, content_type)
            blob = await session.get(Blob, stored.sha256)
            document = _new_document(
                dossier,
                component,
                fields.kind,
                DocumentSource.upload,
                by_officer,
                principal,
                now,
                sha256=stored.sha256,
                filename=_filename_of(upload),
                valid_until=fields.valid_until,
            )
            return document, blob

        return await _attach(session, runtime, response, code, principal, fields.component, build)


async def _attach_reference(
    code: str,
    body: DocumentReferenceIn,
    response: Response,
    principal: Principal,
    session: AsyncSession,
    runtime: Runtime,
) -> DocumentAttachedOut:
    async def build(
        dossier: Dossier, component: Component, by_officer: bool, now: dt.datetime
    ) -> tuple[Document, None]:
        document = _new_document(
            dossier,
            component,
            body.kind,
            DocumentSource(body.source),
            by_officer,
            principal,
            now,
            reference=body.reference,
            valid_until=body.valid_until,
        )
        return document, None

    return await _attach(session, runtime, response, code, principal, body.component, build)


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
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    body: ReuseIn,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    at: Now,
) -> DocumentAttachedOut:
    settings: IntakeSettings = request.app.state.settings

    async def build(
        dossier: Dossier, component: Component, by_officer: bool, now: dt.datetime
    ) -> tuple[Document, Blob | None]:
        own = _is_own(principal, dossier)
        denied = reuse_access_refusal(
            own=own, roles=principal.roles, consent=bool(dossier.reuse_consent)
        )
        if denied is not None:
            raise _reuse_forbidden(denied)
        earlier = await store_rows.document_by_id(session, body.document_id)
        # Another applicant's document is as absent as one that does not exist: an officer
        # learns nothing about documents that are not this applicant's.
        if earlier is None or earlier.applicant_id_number != dossier.applicant_id_number:
            raise not_found("document", "giấy tờ")
        today = now.astimezone(VN_TZ).date()
        refusal = reuse_refusal(
            store_rows.facts(earlier), dossier.applicant_id_number, component.kind, today
        )
        if refusal is None and _unsafe_reference(earlier, settings):
            refusal = ReuseRefusal.unsafe_reference
        if refusal is not None:
            title, title_vi = REUSE_REFUSALS[refusal]
            raise Problem(
                422,
                f"reuse-{refusal}",
                title,
                title_vi,
                errors=[{"field": "body.document_id", "message": title, "message_vi": title_vi}],
            )
        document = Document(
            id=uuid.uuid4(),
            dossier_id=dossier.id,
            component=component.name,
            kind=earlier.kind or component.kind,
            source=DocumentSource.reuse,
            sha256=earlier.sha256,
            reference=earlier.reference,
            filename=earlier.filename,
            reused_from=earlier.id,
            applicant_id_number=dossier.applicant_id_number,
            valid_until=earlier.valid_until,
            # Digitised once, by whoever did it then; reuse does not digitise anew.
            digitised=True,
            digitised_by=earlier.digitised_by,
            digitised_at=earlier.digitised_at,
            created_by=principal.sub,
            created_at=now,
        )
        if not own:
            store_rows.record_audit(
                session,
                dossier,
                DocumentAudit.reused,
                principal,
                now,
                note=f"document {earlier.id} as component {component.index}",
            )
        blob = await session.get(Blob, earlier.sha256) if earlier.sha256 else None
        return document, blob

    return await _attach(session, runtime, response, code, principal, body.component, build, now=at)


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
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    principal: PrincipalDep,
    session: SessionDep,
) -> DossierDocumentsOut:
    dossier = await repository.dossier_by_code(session, code, principal)
    if dossier is None:
        raise not_found("dossier", "hồ sơ")
    procedure = await repository.procedure_as_received(session, dossier)
    components = required_components(procedure.data)
    documents = await store_rows.documents_of(session, dossier.id)
    blobs = await _blobs(session, documents)
    facts = [store_rows.facts(d) for d in documents]
    statuses = [
        ComponentStatus(
            index=c.index,
            name=c.name,
            kind=c.kind,
            provided=any(d.component == c.name for d in documents),
            digitised=any(d.component == c.name and d.digitised for d in documents),
            document_ids=[d.id for d in documents if d.component == c.name],
        )
        for c in components
    ]
    return DossierDocumentsOut(
        dossier_code=dossier.code,
        components=statuses,
        missing=[c.name for c in missing_components(components, facts)],
        input_digitised=is_input_digitised(components, facts),
        documents=[DocumentOut(**_document_out(d, blobs.get(d.sha256 or ""))) for d in documents],
    )


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
    },
)
async def download_document(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    store: StoreDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    found = await store_rows.document_with_blob(session, document_id, principal)
    if found is None:
        raise not_found("document", "giấy tờ")
    document, blob = found
    if blob is None:
        raise Problem(
            404,
            "no-content",
            "The document has no file",
            "Giấy tờ không kèm tệp",
            detail=f"This document is a {document.source}; only uploaded files can be downloaded",
            detail_vi="Giấy tờ là tham chiếu hoặc bản giấy, không có tệp để tải",
        )
    await session.close()  # nothing more to read; the connection goes back before streaming
    etag = f'"{blob.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match and etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    try:
        chunks = await store.read(blob.sha256)
    except BlobMissing as exc:
        log.error("blob missing from the store", sha256=blob.sha256, document_id=str(document_id))
        raise Problem(
            500,
            "content-missing",
            "The file is missing from storage",
            "Không tìm thấy tệp trong kho lưu trữ",
        ) from exc
    filename = document.filename or f"{document.id}"
    headers["Content-Length"] = str(blob.size)
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return StreamingResponse(chunks, media_type=blob.content_type, headers=headers)


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
    session: SessionDep,
    runtime: RuntimeDep,
) -> DocumentAttachedOut:
    now = dt.datetime.now(dt.UTC)
    async with session.begin():
        found = await store_rows.visible_document(session, document_id, principal, for_update=True)
        if found is None:
            raise not_found("document", "giấy tờ")
        document, dossier = found
        if not (principal.has_role(*DIGITISING_ROLES) and principal.covers(dossier.unit_path)):
            raise forbidden("only an officer of the dossier's unit confirms digitisation")
        if dossier.status in CLOSED_STATUSES:
            raise _closed(dossier)
        procedure = await repository.procedure_as_received(session, dossier)
        components = required_components(procedure.data)
        others = [
            store_rows.facts(d)
            for d in await store_rows.documents_of(session, dossier.id)
            if d.id != document.id
        ]
        before = store_rows.facts(document)
        if not document.digitised:
            document.digitised = True
            document.digitised_by = principal.sub
            document.digitised_at = now
        digitised = await _publish_if_digitised(
            session,
            runtime,
            dossier,
            procedure,
            components,
            [*others, before],
            [*others, store_rows.facts(document)],
            principal,
            now,
        )
        blob = await session.get(Blob, document.sha256) if document.sha256 else None
    return DocumentAttachedOut(**_document_out(document, blob), dossier_input_digitised=digitised)


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
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    now: Now,
    kind: Annotated[
        str | None,
        Query(
            max_length=128,
            pattern=r"^[a-z0-9][a-z0-9-]*$",
            description="loại giấy tờ, ví dụ giay-to-tuy-than",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReusableDocumentPage:
    today = now.astimezone(VN_TZ).date()
    settings: IntakeSettings = request.app.state.settings
    async with session.begin():
        dossier = await repository.dossier_by_code(session, code, principal)
        if dossier is None:
            raise not_found("dossier", "hồ sơ")
        own = _is_own(principal, dossier)
        denied = reuse_access_refusal(
            own=own, roles=principal.roles, consent=bool(dossier.reuse_consent)
        )
        if denied is not None:
            raise _reuse_forbidden(denied)
        if not own and dossier.status in CLOSED_STATUSES:
            # Seeing the applicant's papers serves the handling of an open dossier only.
            raise _closed(dossier)
        procedure = await repository.procedure_as_received(session, dossier)
        wanted_kinds = {c.kind for c in required_components(procedure.data)}
        documents = await store_rows.earlier_documents(
            session, dossier.applicant_id_number, dossier.id, kind, limit
        )
        blobs = await _blobs(session, documents)
        if not own:
            store_rows.record_audit(
                session,
                dossier,
                DocumentAudit.listed,
                principal,
                now,
                note=f"{len(documents)} documents listed",
            )
    items = []
    for d in documents:
        expired = is_expired(d.valid_until, today)
        fields = _document_out(d, blobs.get(d.sha256 or ""))
        if not own:
            # The file is read through this dossier once reused, not from the other dossier.
            fields["content_url"] = None
        items.append(
            ReusableDocumentOut(
                **fields,
                expired=expired,
                reusable=not expired
                and (d.kind or kind_slug(d.component)) in wanted_kinds
                and not _unsafe_reference(d, settings),
            )
        )
    return ReusableDocumentPage(dossier_code=dossier.code, items=items)


def _consent_out(dossier: Dossier) -> ConsentOut:
    return ConsentOut(
        dossier_code=dossier.code,
        document_reuse_consent=bool(dossier.reuse_consent),
        changed_at=dossier.reuse_consent_at,
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
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    body: ConsentIn,
    principal: PrincipalDep,
    session: SessionDep,
    now: Now,
) -> ConsentOut:
    async with session.begin():
        dossier = await repository.dossier_by_code(session, code, principal, for_update=True)
        if dossier is None:
            raise not_found("dossier", "hồ sơ")
        if not may_give_consent(principal, dossier.applicant_id_number):
            raise forbidden("only the applicant gives or withdraws consent to reuse")
        store_rows.record_consent(session, dossier, body.granted, principal, now)
    return _consent_out(dossier)


@router.put(
    "/v1/lookup/{code}/document-reuse-consent",
    response_model=ConsentOut,
    tags=["lookup"],
    responses=RATE_LIMITED_RESPONSES,
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
    request: Request,
    guard: GuardDep,
    session: SessionDep,
    now: Now,
) -> ConsentOut:
    async with session.begin():
        dossier = await guard.verified_dossier(
            session, client_address(request), code, body.verifier
        )
        if not may_consent_by_lookup(
            applicant_id_number=dossier.applicant_id_number, submitted_by=dossier.submitted_by
        ):
            raise forbidden(
                "this dossier was filed by someone else: the applicant consents signed in, "
                "with PUT /v1/dossiers/{code}/document-reuse-consent"
            )
        await session.refresh(dossier, with_for_update=True)
        store_rows.record_consent(session, dossier, body.granted, None, now)
    return _consent_out(dossier)
