"""Integration API for LGSP/NGSP and post offices (role ``integration``, scoped to a unit like a
receptionist): read a dossier by the client's own id, and follow status changes as a feed.
Submission by external id goes through ``POST /v1/dossiers`` (see ``external_ids``)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.dossiers import dossier_with_history
from intake_service.api.integration_schemas import ChangeOut, ChangePage
from intake_service.api.schemas import DossierOut
from intake_service.db import repository
from intake_service.db.feed import Change, FeedPosition, read_changes
from intake_service.db.models import Dossier
from intake_service.domain.lifecycle import STATUS_LABELS_VI
from intake_service.domain.national_status import national_status
from shared.auth import Principal, Role, require_roles, unit_scope
from shared.bounds import BIGINT_MAX
from shared.errors import PROBLEM_RESPONSES, Problem
from shared.runtime import db_session

router = APIRouter(prefix="/v1/integration", tags=["integration"], responses=PROBLEM_RESPONSES)

IntegrationClient = Annotated[Principal, Depends(require_roles(Role.integration, Role.ops))]
SessionDep = Annotated[AsyncSession, Depends(db_session)]
_CURSOR_VERSION = 1


def encode_cursor(position: FeedPosition) -> str:
    doc: dict[str, object] = {"v": _CURSOR_VERSION, "a": position.after}
    if position.watch or position.horizon is not None:
        doc |= {"f": position.floor, "w": sorted(position.watch), "h": position.horizon}
    return base64.urlsafe_b64encode(orjson.dumps(doc)).decode().rstrip("=")


def _bad_cursor() -> Problem:
    return Problem(
        400,
        "bad-cursor",
        "Invalid cursor",
        "Con trỏ không hợp lệ",
        detail="Send back a next_cursor exactly as received, or omit it to start from the beginning",
        detail_vi="Gửi lại đúng next_cursor đã nhận, hoặc bỏ trống để đọc từ đầu",
    )


def decode_cursor(cursor: str) -> FeedPosition:
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(doc, dict) or doc.get("v") != _CURSOR_VERSION:
            raise ValueError("unknown cursor version")
        after = int(doc["a"])
        watch = frozenset(int(x) for x in doc.get("w", ()))
        horizon = doc.get("h")
        position = FeedPosition(
            after=after,
            floor=int(doc.get("f", after)),
            watch=watch,
            horizon=None if horizon is None else int(horizon),
        )
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise _bad_cursor() from exc
    if position.after < 0 or position.floor < 0 or position.floor > position.after + 1:
        raise _bad_cursor()
    # Positions are BIGINT sequence values; a larger one names nothing and cannot be sent.
    if max(position.after, position.floor, position.horizon or 0, *position.watch, 0) > BIGINT_MAX:
        raise _bad_cursor()
    return position


def change_out(change: Change) -> ChangeOut:
    national = national_status(change.to_status)
    return ChangeOut(
        dossier_id=change.dossier_id,
        dossier_code=change.dossier_code,
        source_system=change.source_system,
        external_id=change.external_id,
        unit_code=change.unit_code,
        action=change.action,
        from_status=change.from_status,
        status=change.to_status,
        status_label_vi=STATUS_LABELS_VI.get(change.to_status, change.to_status),  # type: ignore[call-overload]
        national_status_code=national.code if national else None,
        national_status_name=national.name if national else None,
        at=change.at,
    )


@router.get(
    "/dossiers/{source_system}/{external_id}",
    response_model=DossierOut,
    summary="Read a dossier by its external id",
    description="Xem hồ sơ theo mã của hệ thống gửi (LGSP/NGSP, bưu điện), kèm lịch sử xử lý. "
    "Hồ sơ ngoài phạm vi đơn vị của hệ thống tích hợp trả 404.",
)
async def dossier_by_external_id(
    source_system: Annotated[str, Path(max_length=64, description="hệ thống gửi")],
    external_id: Annotated[str, Path(max_length=128, description="mã hồ sơ ở hệ thống gửi")],
    response: Response,
    principal: IntegrationClient,
    session: SessionDep,
) -> DossierOut:
    dossier = await session.scalar(
        select(Dossier).where(
            Dossier.source_system == source_system,
            Dossier.external_id == external_id,
            repository.visible_to(principal),
        )
    )
    return await dossier_with_history(session, dossier, response)


@router.get(
    "/changes",
    response_model=ChangePage,
    summary="Follow status changes",
    description=(
        "Dòng thay đổi trạng thái hồ sơ trong phạm vi đơn vị của hệ thống tích hợp, theo thứ tự "
        "ghi nhận: mã hồ sơ, mã của hệ thống gửi, hành động, trạng thái mới (mã của hệ thống và mã "
        "đồng bộ Cổng Dịch vụ công quốc gia: 1 Mới đăng ký, 2 Được tiếp nhận, 3 Không được tiếp "
        "nhận, 4 Đang xử lý, 5 Yêu cầu bổ sung giấy tờ, 6 Yêu cầu thực hiện nghĩa vụ tài chính, 7 "
        "Công dân yêu cầu rút hồ sơ, 8 Dừng xử lý, 9 Đã xử lý xong, 10 Đã trả kết quả), thời điểm. "
        "Bỏ trống `after` để đọc từ đầu; sau đó luôn gửi lại `next_cursor` nhận được. Con trỏ "
        "không bỏ sót thay đổi ghi nhận muộn (giao dịch kết thúc sau): thay đổi đó xuất hiện ở "
        "trang kế tiếp. Một trang có thể ít hơn `limit` mục; `has_more` cho biết còn dữ liệu."
    ),
)
async def changes(
    principal: IntegrationClient,
    session: SessionDep,
    after: Annotated[
        str | None, Query(max_length=4000, description="con trỏ next_cursor của lần đọc trước")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="số mục tối đa")] = 100,
) -> ChangePage:
    position = decode_cursor(after) if after else FeedPosition()
    page = await read_changes(session, unit_scope(Dossier.unit_path, principal), position, limit)
    return ChangePage(
        items=[change_out(c) for c in page.changes],
        next_cursor=encode_cursor(page.position),
        has_more=page.has_more,
    )
