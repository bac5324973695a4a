"""Integration API for LGSP/NGSP and post offices (role ``integration``, scoped to a unit like a
receptionist): read a dossier by the client's own id, and follow status changes as a feed.
Submission by external id goes through ``POST /v1/dossiers`` (see ``integration.service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from intake_service.dossiers.errors import DossierNotFound
from intake_service.dossiers.schemas import DossierOut
from intake_service.integration import service
from intake_service.integration.errors import BadFeedCursor
from intake_service.integration.schemas import ChangePage
from shared.auth import Principal, Role, require_roles
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Session

router = APIRouter(
    prefix="/v1/integration",
    tags=["integration"],
    responses=PROBLEM_RESPONSES,
    route_class=CommitRoute,
)

IntegrationClient = Annotated[Principal, Depends(require_roles(Role.integration, Role.ops))]


@router.get(
    "/dossiers/{source_system}/{external_id}",
    response_model=DossierOut,
    summary="Read a dossier by its external id",
    description="Xem hồ sơ theo mã của hệ thống gửi (LGSP/NGSP, bưu điện), kèm lịch sử xử lý. "
    "Hồ sơ ngoài phạm vi đơn vị của hệ thống tích hợp trả 404.",
    responses=problem_responses(DossierNotFound),
)
async def dossier_by_external_id(
    source_system: Annotated[str, Path(max_length=64, description="hệ thống gửi")],
    external_id: Annotated[str, Path(max_length=128, description="mã hồ sơ ở hệ thống gửi")],
    response: Response,
    principal: IntegrationClient,
    session: Session,
) -> DossierOut:
    dossier = await service.dossier_by_external_id(session, principal, source_system, external_id)
    response.headers["ETag"] = f'"{dossier.version}"'
    return dossier


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
    responses=problem_responses(BadFeedCursor),
)
async def changes(
    principal: IntegrationClient,
    session: Session,
    after: Annotated[
        str | None, Query(max_length=4000, description="con trỏ next_cursor của lần đọc trước")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="số mục tối đa")] = 100,
) -> ChangePage:
    return await service.changes(session, principal, after, limit)
