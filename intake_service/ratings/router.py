"""Satisfaction ratings over HTTP: parse, call one service function, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from intake_service.lookup.deps import ClientAddress, GuardDep
from intake_service.lookup.errors import LookupLocked, LookupNotFound, TooManyLookups
from intake_service.ratings import service
from intake_service.ratings.errors import AlreadyRated
from intake_service.ratings.schemas import RatingCreate, RatingOut, SurveyImport, SurveyImportOut
from shared.auth import Principal, Role, principal_of, require_roles
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, RATE_LIMITED_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import RuntimeDep, Session

router = APIRouter(tags=["ratings"], route_class=CommitRoute, responses=PROBLEM_RESPONSES)

OFFICER_ROLES = (
    Role.receptionist,
    Role.specialist,
    Role.approver,
    Role.finance,
    Role.supervisor,
    Role.ops,
)
# The QR rating needs no login, so the bearer token is optional on this route.
_optional_bearer = HTTPBearer(auto_error=False)

DossierCode = Annotated[str, Path(min_length=1, max_length=40, description="mã hồ sơ")]


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    return await principal_of(request, credentials)


@router.post(
    "/v1/dossiers/{code}/ratings",
    status_code=201,
    response_model=RatingOut,
    responses={
        **RATE_LIMITED_RESPONSES,
        **problem_responses(AlreadyRated, LookupNotFound, TooManyLookups, LookupLocked),
    },
    summary="Rate a dossier",
    description=(
        "Đánh giá mức độ hài lòng về việc giải quyết hồ sơ, thang điểm 1–5: 1 rất không hài lòng, "
        "2 không hài lòng, 3 bình thường, 4 hài lòng, 5 rất hài lòng (4–5 được tính là hài lòng). "
        "Kênh `online`: người nộp đăng nhập, khi nộp hoặc sau đó. Kênh `qr`: quét mã QR tại Bộ phận "
        "Một cửa, không cần đăng nhập, nhập 4 số xác minh như khi tra cứu (sai trả 404 như tra "
        "cứu, cùng giới hạn số lần). Kênh `survey`: hệ thống khảo sát (vai trò integration). Mỗi "
        "hồ sơ chỉ được đánh giá một lần trên mỗi kênh; lần thứ hai trả 409."
    ),
)
async def rate_dossier(
    code: DossierCode,
    body: RatingCreate,
    response: Response,
    guard: GuardDep,
    client: ClientAddress,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    session: Session,
    runtime: RuntimeDep,
    now: Now,
) -> RatingOut:
    out = await service.rate(session, runtime, guard, client, principal, code, body, now)
    response.headers["Location"] = f"/v1/dossiers/{out.dossier_code}/ratings"
    return out


@router.get(
    "/v1/dossiers/{code}/ratings",
    response_model=list[RatingOut],
    summary="Read a dossier's ratings",
    description=(
        "Các đánh giá mức độ hài lòng của hồ sơ: cho cán bộ trong phạm vi đơn vị, và cho người "
        "nộp (hoặc người được ủy quyền nộp thay) với hồ sơ của chính mình; hồ sơ khác trả 404."
    ),
)
async def list_ratings(
    code: DossierCode,
    principal: Annotated[Principal, Depends(require_roles(*OFFICER_ROLES, Role.applicant))],
    session: Session,
) -> list[RatingOut]:
    return await service.ratings_of(session, principal, code)


@router.post(
    "/v1/ratings/import",
    response_model=SurveyImportOut,
    summary="Import survey ratings",
    description=(
        "Nhập một lô kết quả từ hệ thống khảo sát mức độ hài lòng (vai trò integration, trong "
        "phạm vi đơn vị). Mỗi mục được nhận hoặc từ chối riêng (mục bị từ chối không để lại gì), "
        "các mục được nhận ghi cùng nhau khi cả lô xong: hồ sơ không tìm thấy (404), đã có đánh "
        "giá qua khảo sát (409). Gửi lại cả lô là an toàn: các mục đã nhận trả 409, không ghi "
        "hai lần."
    ),
)
async def import_survey(
    body: SurveyImport,
    principal: Annotated[Principal, Depends(require_roles(Role.integration))],
    session: Session,
    runtime: RuntimeDep,
    now: Now,
) -> SurveyImportOut:
    return await service.import_survey(session, runtime, principal, body, now)
