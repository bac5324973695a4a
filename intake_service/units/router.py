"""Routes of administrative units and agencies: public reading, ops' changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from intake_service.reference.state import ReferenceDep
from intake_service.units import service
from intake_service.units.errors import (
    AgencyExists,
    AgencyNotFound,
    UnitConflict,
    UnitNotFound,
    UnknownParentUnit,
    UnknownUnit,
)
from intake_service.units.schemas import (
    AgencyIn,
    AgencyOut,
    AgencyPage,
    AgencyRename,
    UnitIn,
    UnitOut,
    UnitPage,
)
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Cursor, Ops, RuntimeDep, Session

router = APIRouter(
    prefix="/v1", tags=["catalogue"], responses=PROBLEM_RESPONSES, route_class=CommitRoute
)

AgencyCode = Annotated[str, Path(max_length=64, description="mã cơ quan")]


@router.get(
    "/units",
    response_model=UnitPage,
    summary="List administrative units",
    description=(
        "Đơn vị hành chính (công khai), lọc theo đơn vị cha; ví dụ `parent_code=01` cho các xã, "
        "phường của Hà Nội. Theo mã đơn vị, từng trang (`next_cursor`)."
    ),
)
async def list_units(
    session: Session,
    parent_code: Annotated[str | None, Query(max_length=16)] = None,
    include_retired: bool = False,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="số đơn vị mỗi trang")] = 500,
) -> UnitPage:
    return await service.list_units(
        session,
        parent_code=parent_code,
        include_retired=include_retired,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/units",
    status_code=201,
    response_model=UnitOut,
    responses=problem_responses(UnitConflict, UnknownParentUnit),
    summary="Add an administrative unit",
    description="Thêm đơn vị hành chính vào cây (bất kỳ độ sâu nào), ví dụ khi sắp xếp lại đơn vị.",
)
async def create_unit(
    body: UnitIn, principal: Ops, session: Session, reference: ReferenceDep
) -> UnitOut:
    return await service.create_unit(session, reference.cache, principal, body)


@router.post(
    "/units/{code}/retire",
    response_model=UnitOut,
    responses=problem_responses(UnitNotFound, UnitConflict),
    summary="Retire an administrative unit",
    description="Ngừng hoạt động một đơn vị (không xóa): hồ sơ và lịch sử của đơn vị vẫn đọc được.",
)
async def retire_unit(
    code: str, principal: Ops, session: Session, now: Now, reference: ReferenceDep
) -> UnitOut:
    return await service.retire_unit(session, reference.cache, principal, code, now)


@router.get(
    "/agencies",
    response_model=AgencyPage,
    summary="List agencies",
    description=(
        "Cơ quan: Bộ phận Một cửa, Trung tâm Phục vụ hành chính công, sở ngành, văn phòng đăng "
        "ký đất đai, thuế, công an, BHXH. Theo mã cơ quan, từng trang (`next_cursor`)."
    ),
)
async def list_agencies(
    session: Session,
    unit_code: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=40, description="loại cơ quan")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500, description="số cơ quan mỗi trang")] = 100,
) -> AgencyPage:
    return await service.list_agencies(
        session, unit_code=unit_code, kind=kind, cursor=cursor, limit=limit
    )


@router.get(
    "/agencies/{code}",
    response_model=AgencyOut,
    responses=problem_responses(AgencyNotFound),
    summary="Read an agency",
    description=(
        "Một cơ quan theo mã, kể cả cơ quan đã ngừng hoạt động (`retired_at`); mã không có trả "
        "404. Workflow đọc ở đây trước khi chuyển bước đến cơ quan ngoài quy trình."
    ),
)
async def get_agency(code: AgencyCode, session: Session) -> AgencyOut:
    return await service.read_agency(session, code)


@router.post(
    "/agencies",
    status_code=201,
    response_model=AgencyOut,
    responses=problem_responses(AgencyExists, UnknownUnit),
    summary="Add an agency",
    description=(
        "Thêm cơ quan tham gia giải quyết hồ sơ (vai trò vận hành). Sự kiện "
        "`vn.motcua.agency.changed.v1` được phát lên topic `intake.catalogue.v1` "
        "(khóa `agency-<mã>`)."
    ),
)
async def create_agency(
    body: AgencyIn, principal: Ops, session: Session, runtime: RuntimeDep
) -> AgencyOut:
    return await service.create_agency(session, runtime.outbox, principal, body)


@router.patch(
    "/agencies/{code}",
    response_model=AgencyOut,
    responses=problem_responses(AgencyNotFound),
    summary="Rename an agency",
    description=(
        "Đổi tên cơ quan (vai trò vận hành), ví dụ khi sắp xếp lại tổ chức bộ máy: "
        '`{"name": "Văn phòng Đăng ký đất đai Thành phố Hà Nội"}`. Mã, loại và đơn vị không đổi. '
        "Tên mới được phát lên topic `intake.catalogue.v1` (`vn.motcua.agency.changed.v1`, khóa "
        "`agency-<mã>`), để kết quả giải quyết và phiếu kiểm soát ghi đúng tên cơ quan."
    ),
)
async def rename_agency(
    code: AgencyCode,
    body: Annotated[
        AgencyRename,
        Body(
            openapi_examples={
                "vpdkdd": {
                    "summary": "Đổi tên Văn phòng Đăng ký đất đai",
                    "value": {"name": "Văn phòng Đăng ký đất đai Thành phố Hà Nội"},
                }
            }
        ),
    ],
    principal: Ops,
    session: Session,
    runtime: RuntimeDep,
) -> AgencyOut:
    return await service.rename_agency(session, runtime.outbox, principal, code, body)


@router.post(
    "/agencies/{code}/retire",
    response_model=AgencyOut,
    responses=problem_responses(AgencyNotFound),
    summary="Retire an agency",
    description=(
        "Ngừng hoạt động một cơ quan (không xóa lịch sử). Thay đổi được phát lên "
        "`intake.catalogue.v1`."
    ),
)
async def retire_agency(
    code: str, principal: Ops, session: Session, runtime: RuntimeDep, now: Now
) -> AgencyOut:
    return await service.retire_agency(session, runtime.outbox, principal, code, now)
