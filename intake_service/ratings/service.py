"""Satisfaction ratings (đánh giá mức độ hài lòng): by the applicant online, by anyone at the desk
through the QR code on the slip (with the lookup's verifier), and imported in batches from the
province's satisfaction-survey system. One rating per dossier per channel.

Who may rate through which channel is decided here; each rating and its ``DossierRated`` event
are written in the request's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, Rating
from intake_service.domain.ratings import SCORE_LABELS_VI, is_satisfied
from intake_service.lookup.service import LookupGuard
from intake_service.ratings import repository
from intake_service.ratings.errors import (
    AlreadyRated,
    DossierNotFound,
    RatingForbidden,
    RatingUnauthorized,
)
from intake_service.ratings.schemas import (
    ItemProblem,
    RatingCreate,
    RatingOut,
    SurveyImport,
    SurveyImportOut,
    SurveyImportResult,
)
from shared.auth import Principal, Role
from shared.errors import Problem
from shared.events import DossierRated
from shared.runtime import Runtime
from shared.vocabulary import Channel, RatingChannel

# The role a signed-in rater needs on each channel that takes a token.
CHANNEL_ROLES = {RatingChannel.online: Role.applicant, RatingChannel.survey: Role.integration}


def rating_out(code: str, rating: Rating) -> RatingOut:
    channel = RatingChannel(rating.channel)
    return RatingOut(
        dossier_code=code,
        channel=channel,
        channel_label_vi=channel.label_vi,
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
    """Insert the rating and its event; 409 when the channel has rated this dossier already."""
    if not await repository.insert_rating(session, dossier.id, channel, score, comment, now):
        raise AlreadyRated(channel)
    procedure = await repository.procedure(session, dossier.procedure_key)
    event = DossierRated(
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        procedure_code=(procedure.code if procedure else None) or dossier.procedure_key,
        unit_code=dossier.unit_code,
        unit_path=dossier.unit_path,
        channel=Channel(dossier.channel),
        at=now,
        actor=actor,
        rating_channel=channel,
        score=score,
        satisfied=is_satisfied(score),
    )
    await runtime.outbox.add(session, event, subject=dossier.code)
    return rating_out(
        dossier.code,
        Rating(dossier_id=dossier.id, channel=channel, score=score, comment=comment, rated_at=now),
    )


async def _dossier_to_rate(
    session: AsyncSession,
    guard: LookupGuard,
    client: str,
    code: str,
    body: RatingCreate,
    principal: Principal | None,
) -> tuple[Dossier, str]:
    """The dossier this caller may rate through the body's channel, and who the rater is."""
    if body.channel == RatingChannel.qr:
        assert body.verifier is not None  # the body's validator requires it
        return await guard.verified_dossier(session, client, code, body.verifier), "qr"
    if principal is None:
        raise RatingUnauthorized("a bearer token is required for online and survey ratings")
    wanted = CHANNEL_ROLES[body.channel]
    if not principal.has_role(wanted):
        raise RatingForbidden(detail=f"a {body.channel} rating requires the role {wanted}")
    # Online, only the applicant (or who filed as their representative) rates, even when the
    # caller also holds an office: the lookup is by their own dossiers, not by unit.
    if body.channel == RatingChannel.online:
        found = await repository.own_dossier(session, code, principal)
    else:
        found = await repository.visible_dossier(session, code, principal)
    if found is None:
        raise DossierNotFound()
    return found, principal.sub


async def rate(
    session: AsyncSession,
    runtime: Runtime,
    guard: LookupGuard,
    client: str,
    principal: Principal | None,
    code: str,
    body: RatingCreate,
    now: dt.datetime,
) -> RatingOut:
    dossier, actor = await _dossier_to_rate(session, guard, client, code, body, principal)
    return await _record(
        session, runtime, dossier, body.channel, body.score, body.comment, actor, now
    )


async def ratings_of(session: AsyncSession, principal: Principal, code: str) -> list[RatingOut]:
    dossier = await repository.visible_dossier(session, code, principal)
    if dossier is None:
        raise DossierNotFound()
    return [rating_out(dossier.code, r) for r in await repository.ratings_of(session, dossier.id)]


def _item_problem(problem: Problem) -> ItemProblem:
    return ItemProblem(
        type=problem.type,
        status=problem.status,
        title=problem.title,
        title_vi=problem.title_vi,
        detail=problem.detail,
        detail_vi=problem.detail_vi,
    )


async def import_survey(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    body: SurveyImport,
    now: dt.datetime,
) -> SurveyImportOut:
    """Each item is taken or refused on its own: a savepoint per item, so a refused one leaves
    nothing behind while the accepted ones commit with the request."""
    results: list[SurveyImportResult] = []
    for index, item in enumerate(body.items):
        try:
            async with session.begin_nested():
                dossier = await repository.visible_dossier(session, item.dossier_code, principal)
                if dossier is None:
                    raise DossierNotFound()
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
