"""Public lookup (tra cứu hồ sơ): anyone with the dossier code and the last four digits of the
applicant's ID or phone number sees the status and the history. No login.

The four digits are a credential, so they travel in the body (``POST /v1/lookup``) or in a
header (``GET /v1/lookup/{code}`` with ``X-Lookup-Verifier``, for the page the slip's QR code
opens), never in the URL that proxies and access logs keep.

An unknown code and a wrong verifier answer with the same 404, so the route cannot be used to
find out which codes exist; wrong verifiers count against the guessing address on that code
whether it exists or not, and never lock the owner out (see domain/rate_limit.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.lookup_schemas import LookupIn, LookupOut, LookupPayments, LookupStep
from intake_service.db import repository
from intake_service.db.models import Dossier, Procedure, Unit
from intake_service.domain.documents import AUDIT_LABELS_VI
from intake_service.domain.lifecycle import ACTION_LABELS_VI, STATUS_LABELS_VI
from intake_service.domain.payments_view import figures
from intake_service.domain.rate_limit import LookupLimits
from intake_service.domain.verifier import VERIFIER_PATTERN, verifier_matches
from shared.errors import PROBLEM_RESPONSES, RATE_LIMITED_RESPONSES, Problem
from shared.runtime import db_session, runtime_of
from shared.text import CleanText

router = APIRouter(
    prefix="/v1/lookup",
    tags=["lookup"],
    responses={**PROBLEM_RESPONSES, **RATE_LIMITED_RESPONSES},
)

# Steps recorded outside the desk's lifecycle table still need a name a citizen understands.
_OTHER_ACTION_LABELS_VI = {
    "submit": "Nộp hồ sơ",
    "start_processing": "Bắt đầu xử lý",
    **AUDIT_LABELS_VI,
}

DossierCode = Annotated[CleanText, Path(min_length=1, max_length=40, description="mã hồ sơ")]
_VERIFIER_DESCRIPTION = "4 số cuối số định danh (CCCD) / mã số thuế hoặc số điện thoại người nộp"
HeaderVerifier = Annotated[
    str,
    Header(
        alias="X-Lookup-Verifier",
        pattern=VERIFIER_PATTERN,
        description=_VERIFIER_DESCRIPTION,
        examples=["2345"],
    ),
]


def lookup_not_found() -> Problem:
    return Problem(
        404,
        "lookup-not-found",
        "No dossier matches this code and verifier",
        "Không tìm thấy hồ sơ với mã và thông tin xác minh đã nhập",
        detail="Check the dossier code on the slip and the last four digits",
        detail_vi="Kiểm tra lại mã hồ sơ trên phiếu và 4 số cuối đã nhập",
    )


def _too_many(code: str, wait: int, detail: str, detail_vi: str) -> Problem:
    return Problem(
        429,
        code,
        "Too many requests",
        "Quá nhiều yêu cầu",
        detail=detail,
        detail_vi=detail_vi,
        headers={"Retry-After": str(wait)},
    )


@dataclass
class LookupGuard:
    """The lookup's limits (see :mod:`intake_service.domain.rate_limit`), shared by the public
    lookup and the QR rating, which take the same credential."""

    limits: LookupLimits

    async def admit(self, client: str, code: str) -> None:
        refusal = await self.limits.admit(client, code)
        if refusal is None:
            return
        wait = refusal.retry_after
        if refusal.reason == "rate":
            raise _too_many(
                "too-many-requests",
                wait,
                f"Too many lookups from this address; retry in {wait} s",
                f"Tra cứu quá nhiều lần từ địa chỉ này; thử lại sau {wait} giây",
            )
        raise _too_many(
            "lookup-locked",
            wait,
            f"Too many wrong verifiers from this address; retry in {wait} s",
            f"Nhập sai thông tin xác minh quá nhiều lần; thử lại sau {wait} giây",
        )

    async def verified_dossier(
        self, session: AsyncSession, client: str, code: str, verifier: str
    ) -> Dossier:
        """The dossier when the code and the verifier match, else the one 404 for everything."""
        await self.admit(client, code)
        dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
        matches = verifier_matches(
            verifier,
            dossier.applicant_id_number if dossier else None,
            dossier.applicant.get("phone") if dossier else None,
        )
        if dossier is None or not matches:
            await self.limits.failed(client, code)
            raise lookup_not_found()
        return dossier


def lookup_guard(request: Request) -> LookupGuard:
    guard: LookupGuard | None = getattr(request.app.state, "lookup_guard", None)
    if guard is None:
        settings = runtime_of(request).settings
        guard = LookupGuard(
            LookupLimits(
                getattr(settings, "rate_limit_storage_uri", "memory://"),
                per_minute=getattr(settings, "lookup_rate_per_minute", 20),
                failures_per_code_per_hour=getattr(
                    settings, "lookup_failures_per_code_per_hour", 10
                ),
                failures_per_client_per_hour=getattr(
                    settings, "lookup_failures_per_client_per_hour", 50
                ),
                # One store may serve several stacks (a test run beside a dev run).
                namespace=f"{getattr(settings, 'topic_namespace', '')}lookup",
            )
        )
        request.app.state.lookup_guard = guard
    return guard


def client_address(request: Request) -> str:
    """The caller's address as uvicorn resolved it. uvicorn replaces the peer's address with the
    one in ``X-Forwarded-For`` only when the peer is a proxy listed in ``--forwarded-allow-ips``
    (``FORWARDED_ALLOW_IPS``; see services/processes.py and deploy/), so a client talking to the
    service directly cannot choose its own address, and behind the ingress every citizen still
    has their own."""
    return request.client.host if request.client else "unknown"


GuardDep = Annotated[LookupGuard, Depends(lookup_guard)]

_DESCRIPTION = (
    "Tra cứu tình trạng hồ sơ, không cần đăng nhập: mã hồ sơ và 4 số cuối số định danh "
    "(CCCD) / mã số thuế hoặc số điện thoại của người nộp. Trả về trạng thái, thủ tục, đơn vị, "
    "ngày tiếp nhận, ngày hẹn trả, quá trình giải quyết (không có tên cán bộ, ghi chú) và các "
    "khoản phí, lệ phí, nghĩa vụ tài chính: còn phải nộp, đã nộp, số biên lai. "
    "Mã không tồn tại và thông tin xác minh sai trả cùng một lỗi 404. Giới hạn số lần tra "
    "cứu theo địa chỉ (mỗi phút), số lần nhập sai theo địa chỉ và mã hồ sơ (mỗi giờ) và theo "
    "địa chỉ (mỗi giờ): vượt quá trả 429 kèm `Retry-After`. Người khác nhập sai không làm "
    "khóa việc tra cứu của chủ hồ sơ."
)


@router.post(
    "",
    response_model=LookupOut,
    summary="Look up a dossier",
    description=_DESCRIPTION
    + " Mã và 4 số cuối gửi trong thân yêu cầu, không nằm trên đường dẫn (không vào nhật ký).",
)
async def lookup_by_body(
    body: LookupIn,
    request: Request,
    response: Response,
    guard: GuardDep,
    session: Annotated[AsyncSession, Depends(db_session)],
) -> LookupOut:
    return await _lookup(session, guard, request, response, body.code, body.verifier)


@router.get(
    "/{code}",
    response_model=LookupOut,
    summary="Look up a dossier (the slip's QR code)",
    description=_DESCRIPTION
    + " Dạng GET cho trang mở từ mã QR trên phiếu (mã QR chỉ chứa mã hồ sơ): 4 số cuối gửi "
    "trong tiêu đề `X-Lookup-Verifier`, không bao giờ trên đường dẫn.",
)
async def lookup(
    code: DossierCode,
    request: Request,
    response: Response,
    guard: GuardDep,
    session: Annotated[AsyncSession, Depends(db_session)],
    verifier: HeaderVerifier,
) -> LookupOut:
    return await _lookup(session, guard, request, response, code, verifier)


async def _lookup(
    session: AsyncSession,
    guard: LookupGuard,
    request: Request,
    response: Response,
    code: str,
    verifier: str,
) -> LookupOut:
    dossier = await guard.verified_dossier(session, client_address(request), code, verifier)
    procedure = await session.get(Procedure, dossier.procedure_key)
    unit = await session.get(Unit, dossier.unit_code)
    steps = await repository.history(session, dossier.id)
    response.headers["Cache-Control"] = "no-store"
    return LookupOut(
        code=dossier.code,
        status=dossier.status,
        status_label_vi=STATUS_LABELS_VI.get(dossier.status, dossier.status),  # type: ignore[call-overload]
        procedure_code=procedure.code if procedure else None,
        procedure_name=procedure.name if procedure else dossier.procedure_key,
        unit_code=dossier.unit_code,
        unit_name=unit.name if unit else dossier.unit_code,
        received_at=dossier.received_at,
        appointment_at=dossier.appointment_at,
        rescheduled_at=dossier.rescheduled_at,
        history=[
            LookupStep(
                action=step.action,
                action_label_vi=ACTION_LABELS_VI.get(step.action)  # type: ignore[call-overload]
                or _OTHER_ACTION_LABELS_VI.get(step.action, step.action),
                status=step.to_status,
                status_label_vi=STATUS_LABELS_VI.get(step.to_status, step.to_status),  # type: ignore[call-overload]
                at=step.at,
            )
            for step in steps
        ],
        # The lookup's model has no field for who paid or how, so none of it can leak.
        payments=LookupPayments.model_validate(figures(dossier.payments)),
    )
