"""Catalogue routes: procedures, versioned. Reading is public; changing is for ops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from intake_service.catalogue import service
from intake_service.catalogue.errors import (
    KeyMismatch,
    ProcedureExists,
    ProcedureNotFound,
    ProcedureVersionNotFound,
)
from intake_service.catalogue.schemas import (
    ProcedureDetail,
    ProcedureIn,
    ProcedureOut,
    ProcedurePage,
)
from intake_service.reference.state import ReferenceDep
from shared.clock import Now
from shared.errors import IF_MATCH_RESPONSES, PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Cursor, Ops, RuntimeDep, Session

router = APIRouter(
    prefix="/v1", tags=["catalogue"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.get(
    "/procedures",
    response_model=ProcedurePage,
    summary="List procedures",
    description=(
        "Danh mục thủ tục hành chính (công khai): mã, tên, lĩnh vực, thời hạn giải quyết, phiên "
        "bản hiện hành; theo mã thủ tục, từng trang (`next_cursor`)."
    ),
)
async def list_procedures(
    session: Session,
    field: Annotated[str | None, Query(max_length=200, description="lĩnh vực")] = None,
    include_retired: bool = False,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="số thủ tục mỗi trang")] = 500,
) -> ProcedurePage:
    return await service.list_procedures(
        session, field=field, include_retired=include_retired, cursor=cursor, limit=limit
    )


@router.get(
    "/procedures/{key}",
    response_model=ProcedureDetail,
    responses=problem_responses(ProcedureNotFound),
    summary="Read a procedure",
    description="Thủ tục hành chính, phiên bản hiện hành, đầy đủ: thành phần hồ sơ, phí, lệ phí, quy trình.",
)
async def get_procedure(key: str, session: Session, response: Response) -> ProcedureDetail:
    detail = await service.read_procedure(session, key)
    _etag(response, detail.version)
    return detail


@router.get(
    "/procedures/{key}/versions/{version}",
    response_model=ProcedureDetail,
    responses=problem_responses(ProcedureVersionNotFound),
    summary="Read one version of a procedure",
    description="Một phiên bản của thủ tục: quy định mà hồ sơ tiếp nhận theo phiên bản đó phải tuân theo.",
)
async def get_procedure_version(
    key: str,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: Session,
    response: Response,
) -> ProcedureDetail:
    detail = await service.read_version(session, key, version)
    _etag(response, detail.version)
    return detail


@router.post(
    "/procedures",
    status_code=201,
    response_model=ProcedureDetail,
    responses=problem_responses(ProcedureExists),
    summary="Add a procedure",
    description="Thêm thủ tục vào danh mục (vai trò vận hành). Thay đổi được phát lên topic `intake.catalogue.v1`.",
)
async def create_procedure(
    body: ProcedureIn,
    principal: Ops,
    session: Session,
    response: Response,
    runtime: RuntimeDep,
    reference: ReferenceDep,
    now: Now,
) -> ProcedureDetail:
    detail = await service.create_procedure(
        session, runtime.outbox, reference.cache, principal, body, now
    )
    _etag(response, detail.version)
    return detail


@router.put(
    "/procedures/{key}",
    response_model=ProcedureDetail,
    responses={**IF_MATCH_RESPONSES, **problem_responses(ProcedureNotFound, KeyMismatch)},
    summary="Change a procedure",
    description="Sửa thủ tục: tạo phiên bản mới; hồ sơ đã tiếp nhận giữ phiên bản cũ. Cần `If-Match` với phiên bản hiện hành.",
)
async def update_procedure(
    key: str,
    body: ProcedureIn,
    principal: Ops,
    session: Session,
    response: Response,
    runtime: RuntimeDep,
    reference: ReferenceDep,
    now: Now,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> ProcedureDetail:
    detail = await service.update_procedure(
        session, runtime.outbox, reference.cache, principal, key, body, if_match, now
    )
    _etag(response, detail.version)
    return detail


@router.post(
    "/procedures/{key}/retire",
    response_model=ProcedureOut,
    responses=problem_responses(ProcedureNotFound),
    summary="Retire a procedure",
    description=(
        "Ngừng áp dụng thủ tục (vai trò vận hành): không nhận hồ sơ mới; hồ sơ đã tiếp nhận giữ "
        "phiên bản của mình; lịch sử các phiên bản vẫn đọc được. Thay đổi được phát lên "
        "`intake.catalogue.v1`."
    ),
)
async def retire_procedure(
    key: str,
    principal: Ops,
    session: Session,
    runtime: RuntimeDep,
    reference: ReferenceDep,
    now: Now,
) -> ProcedureOut:
    return await service.retire_procedure(
        session, runtime.outbox, reference.cache, principal, key, now
    )
