"""Public lookup (tra cứu hồ sơ): anyone with the dossier code and the last four digits of the
applicant's ID or phone number sees the status and the history. No login.

An unknown code and a wrong verifier answer with the same 404, so the route cannot be used to
find out which codes exist; wrong verifiers count against the code whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.lookup_schemas import LookupOut, LookupPayments, LookupStep
from intake_service.db import repository
from intake_service.db.models import Dossier, Procedure, Unit
from intake_service.domain.documents import AUDIT_LABELS_VI
from intake_service.domain.lifecycle import ACTION_LABELS_VI, STATUS_LABELS_VI
from intake_service.domain.payments_view import figures
from intake_service.domain.rate_limit import SlidingWindowLimiter
from intake_service.domain.verifier import VERIFIER_PATTERN, verifier_matches
from shared.errors import PROBLEM_RESPONSES, RATE_LIMITED_RESPONSES, Problem
from shared.runtime import db_session, runtime_of

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

DossierCode = Annotated[str, Path(min_length=1, max_length=40, description="mã hồ sơ")]
Verifier = Annotated[
    str,
    Query(
        pattern=VERIFIER_PATTERN,
        description="4 số cuối số định danh (CCCD) / mã số thuế hoặc số điện thoại người nộp",
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
    """The two limits of the public lookup, shared by every request of this process."""

    per_client: SlidingWindowLimiter
    failures_per_code: SlidingWindowLimiter

    def admit(self, client: str, code: str) -> None:
        wait = self.per_client.hit(client)
        if wait is not None:
            raise _too_many(
                "too-many-requests",
                wait,
                f"Too many lookups from this address; retry in {wait} s",
                f"Tra cứu quá nhiều lần từ địa chỉ này; thử lại sau {wait} giây",
            )
        wait = self.failures_per_code.retry_after(code)
        if wait is not None:
            raise _too_many(
                "lookup-locked",
                wait,
                f"Too many wrong verifiers for this code; retry in {wait} s",
                f"Nhập sai thông tin xác minh quá nhiều lần; thử lại sau {wait} giây",
            )

    async def verified_dossier(
        self, session: AsyncSession, client: str, code: str, verifier: str
    ) -> Dossier:
        """The dossier when the code and the verifier match, else the one 404 for everything."""
        self.admit(client, code)
        dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
        matches = verifier_matches(
            verifier,
            dossier.applicant_id_number if dossier else None,
            dossier.applicant.get("phone") if dossier else None,
        )
        if dossier is None or not matches:
            self.failures_per_code.record(code)
            raise lookup_not_found()
        return dossier


def lookup_guard(request: Request) -> LookupGuard:
    guard: LookupGuard | None = getattr(request.app.state, "lookup_guard", None)
    if guard is None:
        settings = runtime_of(request).settings
        guard = LookupGuard(
            SlidingWindowLimiter(getattr(settings, "lookup_rate_per_minute", 20), 60),
            SlidingWindowLimiter(getattr(settings, "lookup_failures_per_code_per_hour", 10), 3600),
        )
        request.app.state.lookup_guard = guard
    return guard


def client_address(request: Request) -> str:
    """The caller's address as uvicorn resolved it: behind a reverse proxy listed in
    ``--forwarded-allow-ips`` that is the address the proxy put in ``X-Forwarded-For``."""
    return request.client.host if request.client else "unknown"


GuardDep = Annotated[LookupGuard, Depends(lookup_guard)]


@router.get(
    "/{code}",
    response_model=LookupOut,
    summary="Look up a dossier",
    description=(
        "Tra cứu tình trạng hồ sơ, không cần đăng nhập: nhập mã hồ sơ và 4 số cuối số định danh "
        "(CCCD) / mã số thuế hoặc số điện thoại của người nộp. Trả về trạng thái, thủ tục, đơn vị, "
        "ngày tiếp nhận, ngày hẹn trả, quá trình giải quyết (không có tên cán bộ, ghi chú) và các "
        "khoản phí, lệ phí, nghĩa vụ tài chính: còn phải nộp, đã nộp, số biên lai. "
        "Mã không tồn tại và thông tin xác minh sai trả cùng một lỗi 404. Giới hạn số lần tra "
        "cứu theo địa chỉ (mỗi phút) và số lần nhập sai theo mã hồ sơ (mỗi giờ): vượt quá trả 429 "
        "kèm `Retry-After`."
    ),
)
async def lookup(
    code: DossierCode,
    verifier: Verifier,
    request: Request,
    response: Response,
    guard: GuardDep,
    session: Annotated[AsyncSession, Depends(db_session)],
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
