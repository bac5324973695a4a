"""Satisfaction ratings (đánh giá mức độ hài lòng): by the applicant online, by anyone at the desk
through the QR code on the slip (with the lookup's verifier), and imported in batches from the
province's satisfaction-survey system. One rating per dossier per channel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.lookup import GuardDep, client_address
from intake_service.api.ratings_schemas import (
    ItemProblem,
    RatingCreate,
    RatingOut,
    SurveyImport,
    SurveyImportOut,
    SurveyImportResult,
)
from intake_service.db import repository
from intake_service.db.models import Dossier, Procedure, Rating
from intake_service.domain.ratings import (
    RATING_CHANNEL_LABELS_VI,
    SCORE_LABELS_VI,
    RatingChannel,
    is_satisfied,
)
from shared.auth import Principal, Role, require_roles
from shared.clock import Now
from shared.errors import (
    PROBLEM_RESPONSES,
    RATE_LIMITED_RESPONSES,
    Problem,
    forbidden,
    not_found,
    unauthorized,
)
from shared.events import DossierRated
from shared.runtime import Runtime, db_session, runtime_of

router = APIRouter(tags=["ratings"], responses=PROBLEM_RESPONSES)

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

SessionDep = Annotated[AsyncSession, Depends(db_session)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
DossierCode = Annotated[str, Path(min_length=1, max_length=40, description="mã hồ sơ")]


def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    return request.app.state.authenticator.verify(credentials.credentials)


def already_rated(channel: str) -> Problem:
    return Problem(
        409,
        "already-rated",
        "The dossier was already rated through this channel",
        "Hồ sơ đã được đánh giá qua kênh này",
        detail=f"Only one {channel} rating per dossier is accepted",
        detail_vi="Mỗi hồ sơ chỉ được đánh giá một lần trên mỗi kênh",
    )


def rating_out(code: str, rating: Rating) -> RatingOut:
    channel = RatingChannel(rating.channel)
    return RatingOut(
        dossier_code=code,
        channel=channel.value,  # type: ignore[arg-type]
        channel_label_vi=RATING_CHANNEL_LABELS_VI[channel],
        score=rating.score,
        score_label_vi=SCORE_LABELS_VI[rating.score],
        satisfied=is_satisfied(rating.score),
        comment=rating.comment,
        rated_at=rating.rated_at,
    )


async def _record(
    session: AsyncSession,
    runtime: Runtime,
    dossier: Dossier,
    channel: RatingChannel,
    score: int,
    comment: str | None,
    actor: str,
    now: dt.datetime,
) -> RatingOut:
    """Insert the rating and its event in the caller's transaction; 409 when the channel has
    rated this dossier already (the primary key decides, so two concurrent ratings cannot both
    pass)."""
    inserted = await session.scalar(
        pg_insert(Rating)
        .values(dossier_id=dossier.id, channel=channel, score=score, comment=comment, rated_at=now)
        .on_conflict_do_nothing()
        .returning(Rating.dossier_id)
    )
    if inserted is None:
        raise already_rated(channel)
    procedure = await session.get(Procedure, dossier.procedure_key)
    event = DossierRated(
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        procedure_code=(procedure.code if procedure else None) or dossier.procedure_key,
        unit_code=dossier.unit_code,
        unit_path=dossier.unit_path,
        channel=dossier.channel,  # type: ignore[arg-type]
        at=now,
        actor=actor,
        rating_channel=channel.value,  # type: ignore[arg-type]
        score=score,
        satisfied=is_satisfied(score),
    )
    await runtime.outbox.add(session, event, subject=dossier.code)
    return rating_out(
        dossier.code,
        Rating(dossier_id=dossier.id, channel=channel, score=score, comment=comment, rated_at=now),
    )


async def _dossier_for(
    session: AsyncSession,
    guard: GuardDep,
    request: Request,
    code: str,
    body: RatingCreate,
    principal: Principal | None,
) -> tuple[Dossier, str]:
    """The dossier this caller may rate through the body's channel, and who the rater is."""
    if body.channel == RatingChannel.qr:
        assert body.verifier is not None  # the body's validator requires it
        dossier = await guard.verified_dossier(
            session, client_address(request), code, body.verifier
        )
        return dossier, "qr"
    if principal is None:
        raise unauthorized("a bearer token is required for online and survey ratings")
    wanted = Role.applicant if body.channel == RatingChannel.online else Role.integration
    if not principal.has_role(wanted):
        raise forbidden(f"a {body.channel} rating requires the role {wanted}")
    # Online, only the applicant (or who filed as their representative) rates, even when the
    # caller also holds an office: the lookup is by their own dossiers, not by unit.
    scope = (
        repository.own_dossiers(principal)
        if body.channel == RatingChannel.online
        else repository.visible_to(principal)
    )
    found = await session.scalar(select(Dossier).where(Dossier.code == code, scope))
    if found is None:
        raise not_found("dossier", "hồ sơ")
    return found, principal.sub


@router.post(
    "/v1/dossiers/{code}/ratings",
    status_code=201,
    response_model=RatingOut,
    responses=RATE_LIMITED_RESPONSES,
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
    request: Request,
    response: Response,
    guard: GuardDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    session: SessionDep,
    runtime: RuntimeDep,
    now: Now,
) -> RatingOut:
    async with session.begin():
        dossier, actor = await _dossier_for(session, guard, request, code, body, principal)
        out = await _record(
            session,
            runtime,
            dossier,
            RatingChannel(body.channel),
            body.score,
            body.comment,
            actor,
            now,
        )
    response.headers["Location"] = f"/v1/dossiers/{dossier.code}/ratings"
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
    session: SessionDep,
) -> list[RatingOut]:
    dossier = await repository.dossier_by_code(session, code, principal)
    if dossier is None:
        raise not_found("dossier", "hồ sơ")
    rows = await session.scalars(
        select(Rating).where(Rating.dossier_id == dossier.id).order_by(Rating.rated_at)
    )
    return [rating_out(dossier.code, r) for r in rows]


def _item_problem(problem: Problem) -> ItemProblem:
    return ItemProblem(
        type=problem.type,
        status=problem.status,
        title=problem.title,
        title_vi=problem.title_vi,
        detail=problem.detail,
        detail_vi=problem.detail_vi,
    )


@router.post(
    "/v1/ratings/import",
    response_model=SurveyImportOut,
    summary="Import survey ratings",
    description=(
        "Nhập một lô kết quả từ hệ thống khảo sát mức độ hài lòng (vai trò integration, trong "
        "phạm vi đơn vị). Mỗi mục được nhận hoặc từ chối riêng, mỗi mục một giao dịch: hồ sơ "
        "không tìm thấy (404), đã có đánh giá qua khảo sát (409). Gửi lại cả lô là an toàn: các "
        "mục đã nhận trả 409, không ghi hai lần."
    ),
)
async def import_survey(
    body: SurveyImport,
    principal: Annotated[Principal, Depends(require_roles(Role.integration))],
    session: SessionDep,
    runtime: RuntimeDep,
    now: Now,
) -> SurveyImportOut:
    results: list[SurveyImportResult] = []
    for index, item in enumerate(body.items):
        try:
            async with session.begin():
                dossier = await repository.dossier_by_code(session, item.dossier_code, principal)
                if dossier is None:
                    raise not_found("dossier", "hồ sơ")
                rating = await _record(
                    session,
                    runtime,
                    dossier,
                    RatingChannel.survey,
                    item.score,
                    item.comment,
                    principal.sub,
                    now,
                )
        except Problem as problem:
            results.append(
                SurveyImportResult(
                    index=index,
                    dossier_code=item.dossier_code,
                    outcome="rejected",
                    problem=_item_problem(problem),
                )
            )
        else:
            results.append(
                SurveyImportResult(
                    index=index, dossier_code=item.dossier_code, outcome="accepted", rating=rating
                )
            )
    accepted = sum(r.outcome == "accepted" for r in results)
    return SurveyImportOut(accepted=accepted, rejected=len(results) - accepted, results=results)
