"""Dossier routes: submission, reading, listing."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api import external_ids
from intake_service.api.calendar import ReceptionCalendar
from intake_service.api.pauses import pause_out
from intake_service.api.schemas import (
    ActionOut,
    DossierCreate,
    DossierOut,
    DossierPage,
    PaymentsView,
    Representative,
)
from intake_service.db import lifecycle, repository
from intake_service.db.models import Dossier, DossierAction, IdempotencyKey, Procedure
from intake_service.documents import service as documents
from intake_service.domain.applicant import representation_issue
from intake_service.domain.documents import may_give_consent
from intake_service.domain.dossier_codes import dossier_code
from intake_service.domain.fees import fee_amount
from intake_service.domain.lifecycle import STATUS_LABELS_VI, Action, DossierStatus
from intake_service.domain.payments_view import figures
from intake_service.domain.reception import SUBMITTING_ROLES, may_submit_at
from shared.auth import Principal, Role, current_principal, require_roles
from shared.calendar import VN_TZ
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, Problem, forbidden, not_found
from shared.pagination import decode_cursor, encode_cursor
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"], responses=PROBLEM_RESPONSES)


def dossier_out(
    d: Dossier, procedure: Procedure, history: list[DossierAction] | None = None
) -> DossierOut:
    return DossierOut(
        id=d.id,
        code=d.code,
        procedure_key=d.procedure_key,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        unit_code=d.unit_code,
        unit_path=d.unit_path,
        channel=d.channel,  # type: ignore[arg-type]
        status=d.status,
        status_label_vi=STATUS_LABELS_VI.get(DossierStatus(d.status), d.status),
        applicant_name=d.applicant["name"],
        representative=Representative.model_validate(d.representative)
        if d.representative
        else None,
        received_at=d.received_at,
        appointment_at=d.appointment_at,
        rescheduled_at=d.rescheduled_at,
        fee_amount_vnd=d.fee_amount_vnd,
        case_id=d.case_id,
        fee_request_id=d.fee_request_id,
        version=d.version,
        source_system=d.source_system,
        external_id=d.external_id,
        payments=PaymentsView.model_validate(figures(d.payments)),
        document_reuse_consent=bool(d.reuse_consent),
        pause=pause_out(d),
        history=[ActionOut.model_validate(a) for a in history] if history is not None else None,
    )


def _unknown(field: str, code: str, what: str, what_vi: str) -> Problem:
    return Problem(
        422,
        code,
        f"Unknown {what}",
        f"Không có {what_vi} này",
        errors=[
            {
                "field": field,
                "message": f"no active {what} with this code",
                "message_vi": f"không có {what_vi} đang hoạt động với mã này",
            }
        ],
    )


async def _replay(
    session: AsyncSession,
    earlier: IdempotencyKey,
    request_hash: str,
    procedure: Procedure,
    response: Response,
) -> DossierOut:
    """The answer to a retried submission: the dossier the first attempt created."""
    if earlier.request_hash != request_hash:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency key reused with another body",
            "Khóa chống gửi trùng đã dùng cho một yêu cầu khác",
        )
    existing = await session.get(Dossier, earlier.dossier_id)
    if existing is None:
        raise Problem(500, "internal-error", "Internal error", "Lỗi hệ thống")
    response.headers["ETag"] = f'"{existing.version}"'
    response.headers["Location"] = f"/v1/dossiers/{existing.code}"
    return dossier_out(existing, procedure)


def _replay_external(existing: Dossier, procedure: Procedure, response: Response) -> DossierOut:
    """A repeat by external id: the existing dossier, as 200 rather than 201 (nothing created)."""
    response.status_code = 200
    response.headers["ETag"] = f'"{existing.version}"'
    response.headers["Location"] = f"/v1/dossiers/{existing.code}"
    return dossier_out(existing, procedure)


def _check_consent(body: DossierCreate, principal: Principal) -> None:
    """422 when anyone but the applicant signed in as themself says the applicant consents to
    the reuse of their documents: the desk records that consent by the applicant's own call."""
    if body.document_reuse_consent and not may_give_consent(principal, body.applicant.id_number):
        raise Problem(
            422,
            "consent-by-applicant-only",
            "Only the applicant, signed in as themself, consents to the reuse of their documents",
            "Chỉ người nộp hồ sơ (tự đăng nhập) mới đồng ý cho tái sử dụng giấy tờ của mình",
            errors=[
                {
                    "field": "body.document_reuse_consent",
                    "message": "given by the applicant only",
                    "message_vi": "chỉ người nộp hồ sơ được đồng ý",
                }
            ],
        )


def _check_representation(body: DossierCreate, principal: Principal, now: dt.datetime) -> None:
    """422 unless the submission names who files for whom as ``representation_issue`` requires;
    the problem names the field only, never the numbers compared."""
    issue = representation_issue(
        files_as_citizen=body.channel == "online" and principal.has_role(Role.applicant),
        subject=principal.sub,
        applicant_id=body.applicant.id_number,
        representative_id=body.representative.id_number if body.representative else None,
        authorised_on=body.representative.authorisation_date if body.representative else None,
        today=now.astimezone(VN_TZ).date(),
    )
    if issue is None:
        return
    raise Problem(
        422,
        "representative-required"
        if issue.field == "body.representative"
        else "invalid-representative",
        "The authorised representative's details are missing or do not hold",
        "Thông tin người được ủy quyền còn thiếu hoặc không hợp lệ",
        errors=[{"field": issue.field, "message": issue.message, "message_vi": issue.message_vi}],
    )


def _request_hash(body: DossierCreate) -> str:
    return hashlib.sha256(
        orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=DossierOut,
    summary="Submit a dossier",
    description=(
        "Nộp hồ sơ qua một trong bốn kênh: trực tuyến, trực tiếp tại Bộ phận Một cửa, bưu chính, "
        "hoặc hệ thống tích hợp (LGSP/NGSP). Cán bộ tiếp nhận và hệ thống tích hợp chỉ nộp vào đơn "
        "vị mình phụ trách; công dân nộp trực tuyến. Hồ sơ được tiếp nhận, cấp mã và ngày hẹn trả "
        "kết quả tính theo ngày làm việc. Hồ sơ trực tiếp được tiếp nhận ngay; hồ sơ trực tuyến, "
        "bưu chính, tích hợp chờ cán bộ kiểm tra (`receive_now` để đổi mặc định). `Idempotency-Key`: gửi lại cùng khóa, cùng nội dung nhận "
        "lại đúng câu trả lời đầu; cùng khóa, khác nội dung nhận 422. Công dân nộp trực tuyến cho "
        "người khác (số định danh người nộp khác người đăng nhập) phải kê khai `representative` "
        "(người được ủy quyền: chính người đăng nhập, quan hệ, văn bản ủy quyền), nếu không trả "
        "422; cán bộ tiếp nhận cũng có thể ghi người được ủy quyền."
    ),
    responses={
        200: {
            "model": DossierOut,
            "description": "nộp lại cùng mã hồ sơ của hệ thống nguồn (source_system, "
            "external_id): hồ sơ đã nộp trước đó, không tạo hồ sơ mới",
        }
    },
)
async def submit_dossier(
    body: DossierCreate,
    response: Response,
    principal: Annotated[Principal, Depends(require_roles(*SUBMITTING_ROLES))],
    session: Annotated[AsyncSession, Depends(db_session)],
    runtime: Annotated[Runtime, Depends(runtime_of)],
    now: Now,
    calendar: ReceptionCalendar,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="khóa chống gửi trùng")
    ] = None,
) -> DossierOut:
    request_hash = _request_hash(body)
    # Three short transactions rather than one long one: validation reads, then the daily number,
    # then the write. The number's row lock is held for microseconds, so desks don't queue.
    async with session.begin():
        unit = await repository.active_unit(session, body.unit_code)
        if unit is None:
            raise _unknown(
                "body.unit_code", "unknown-unit", "administrative unit", "đơn vị hành chính"
            )
        if not may_submit_at(principal, unit.path, body.channel):
            raise forbidden()
        _check_representation(body, principal, now)
        _check_consent(body, principal)
        procedure = await session.get(Procedure, body.procedure_key)
        if procedure is None or procedure.retired_at is not None:
            raise _unknown("body.procedure_key", "unknown-procedure", "procedure", "thủ tục")
        if idempotency_key:
            earlier = await repository.idempotency_record(session, idempotency_key, principal.sub)
            if earlier is not None:
                return await _replay(session, earlier, request_hash, procedure, response)
        repeated = await external_ids.earlier_submission(session, principal, body)
        if repeated is not None:
            return _replay_external(repeated, procedure, response)

    today = now.astimezone(VN_TZ).date()
    seq = await repository.next_sequence(runtime.sessionmaker, unit.code, today)
    fee = fee_amount(procedure.data.get("fees", []), body.channel)
    dossier_id = uuid.uuid4()

    receive_now = body.receive_now if body.receive_now is not None else body.channel == "direct"
    if receive_now and not principal.has_role("receptionist"):
        raise forbidden("only a receptionist receives a dossier on the spot")

    try:
        async with session.begin():
            if idempotency_key:
                earlier = await repository.claim_idempotency_key(
                    session, idempotency_key, principal.sub, request_hash, dossier_id
                )
                if earlier is not None:  # a concurrent retry won the race
                    return await _replay(session, earlier, request_hash, procedure, response)
            dossier = Dossier(
                id=dossier_id,
                code=dossier_code(unit.code, today, seq),
                procedure_key=procedure.key,
                procedure_version=procedure.version,
                unit_code=unit.code,
                unit_path=unit.path,
                channel=body.channel,
                status=None,
                applicant=body.applicant.model_dump(mode="json"),
                applicant_id_number=body.applicant.id_number,
                representative=body.representative.model_dump(mode="json")
                if body.representative
                else None,
                representative_id_number=body.representative.id_number
                if body.representative
                else None,
                source_system=external_ids.source_system_of(body, principal),
                external_id=body.external_id,
                submitted_by=principal.sub,
                fee_amount_vnd=fee,
                version=0,
            )
            lifecycle.record(session, dossier, "submit", DossierStatus.submitted, principal, now)
            if body.document_reuse_consent:
                documents.record_consent(session, dossier, True, principal, now)
            session.add(dossier)
            await lifecycle.submitted(session, runtime.outbox, dossier, procedure, principal, now)
            if receive_now:
                await lifecycle.apply(
                    session,
                    runtime.outbox,
                    calendar,
                    dossier,
                    procedure,
                    Action.receive,
                    DossierStatus.received,
                    principal,
                    now,
                    applicant_ref_key=runtime.settings.applicant_ref_key.get_secret_value(),
                )
    except IntegrityError as exc:
        # A concurrent submission with the same external id won the unique constraint.
        if not external_ids.is_external_id_race(exc):
            raise
        async with session.begin():
            repeated = await external_ids.earlier_submission(session, principal, body)
            await session.refresh(procedure)  # the rollback expired it
        if repeated is None:
            raise
        return _replay_external(repeated, procedure, response)
    response.headers["ETag"] = f'"{dossier.version}"'
    response.headers["Location"] = f"/v1/dossiers/{dossier.code}"
    return dossier_out(dossier, procedure)


@router.get(
    "/{code}",
    response_model=DossierOut,
    summary="Read a dossier",
    description=(
        "Xem hồ sơ theo mã, kèm lịch sử xử lý và các khoản phí, lệ phí, nghĩa vụ tài chính "
        "(phải nộp, đã nộp, đã hoàn trả, số biên lai). Việc nộp tiền không đổi phiên bản hồ sơ "
        "(ETag). Hồ sơ ngoài phạm vi đơn vị của người xem trả 404; công dân chỉ xem hồ sơ của "
        "mình hoặc hồ sơ mình nộp thay với tư cách người được ủy quyền."
    ),
)
async def get_dossier(
    code: str,
    response: Response,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> DossierOut:
    dossier = await repository.dossier_by_code(session, code, principal)
    return await dossier_with_history(session, dossier, response)


async def dossier_with_history(
    session: AsyncSession, dossier: Dossier | None, response: Response
) -> DossierOut:
    """A dossier the caller may see, with its history and ETag; 404 when there is none."""
    if dossier is None:
        raise not_found("dossier", "hồ sơ")
    procedure = await session.get(Procedure, dossier.procedure_key)
    assert procedure is not None
    actions = await repository.history(session, dossier.id)
    response.headers["ETag"] = f'"{dossier.version}"'
    return dossier_out(dossier, procedure, actions)


@router.get(
    "",
    response_model=DossierPage,
    summary="List dossiers",
    description="Danh sách hồ sơ trong phạm vi đơn vị của người xem (công dân: hồ sơ của mình "
    "và hồ sơ mình nộp thay), sắp theo thời gian tạo; phân trang bằng con trỏ.",
)
async def list_dossiers(
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(db_session)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[DossierStatus | None, Query(description="lọc theo trạng thái")] = None,
) -> DossierPage:
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.list_dossiers(session, principal, limit + 1, after, status)
    procedures = await repository.procedures_by_key(session, {d.procedure_key for d in rows})
    items = [dossier_out(d, procedures[d.procedure_key]) for d in rows[:limit]]
    return DossierPage(
        items=items,
        next_cursor=encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id)
        if len(rows) > limit
        else None,
    )
