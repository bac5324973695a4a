"""Public lookup over HTTP: parse, call one service function, shape.

The four digits are a credential, so they travel in the body (``POST /v1/lookup``) or in a
header (``GET /v1/lookup/{code}`` with ``X-Lookup-Verifier``, for the page the slip's QR code
opens), never in the URL that proxies and access logs keep.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from intake_service.domain.verifier import VERIFIER_PATTERN
from intake_service.lookup import service
from intake_service.lookup.deps import ClientAddress, GuardDep
from intake_service.lookup.errors import LookupLocked, LookupNotFound, TooManyLookups
from intake_service.lookup.schemas import LookupIn, LookupOut
from shared.errors import PROBLEM_RESPONSES, RATE_LIMITED_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Session
from shared.text import CleanText

router = APIRouter(
    prefix="/v1/lookup",
    tags=["lookup"],
    route_class=CommitRoute,
    responses={
        **PROBLEM_RESPONSES,
        **RATE_LIMITED_RESPONSES,
        **problem_responses(LookupNotFound),
        **problem_responses(TooManyLookups, LookupLocked),
    },
)

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
    response: Response,
    guard: GuardDep,
    client: ClientAddress,
    session: Session,
) -> LookupOut:
    out = await service.look_up(session, guard, client, body.code, body.verifier)
    response.headers["Cache-Control"] = "no-store"
    return out


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
    response: Response,
    guard: GuardDep,
    client: ClientAddress,
    session: Session,
    verifier: HeaderVerifier,
) -> LookupOut:
    out = await service.look_up(session, guard, client, code, verifier)
    response.headers["Cache-Control"] = "no-store"
    return out
