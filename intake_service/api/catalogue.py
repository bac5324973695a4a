"""Catalogue routes: procedures (versioned) and administrative units and agencies.

Reading is public. Changing is for ops, and never loses history: a procedure change makes a new
version (dossiers keep the one they were received under) and units and agencies are retired,
not deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.catalogue_schemas import (
    AgencyIn,
    AgencyOut,
    ProcedureDetail,
    ProcedureIn,
    UnitIn,
)
from intake_service.api.schemas import ProcedureOut, UnitOut
from intake_service.db.models import Agency, Procedure, ProcedureVersion, Unit
from intake_service.domain.fees import fee_amount
from intake_service.domain.procedure_rules import ProcedureRules
from intake_service.seed.loader import procedure_row
from shared.auth import Principal, require_roles
from shared.errors import (
    IF_MATCH_RESPONSES,
    PROBLEM_RESPONSES,
    Problem,
    conflict,
    not_found,
)
from shared.events import ProcedurePublished
from shared.http.preconditions import expected_version, precondition_failed
from shared.runtime import Runtime, db_session, runtime_of
from shared.vocabulary import Channel

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=PROBLEM_RESPONSES)

Ops = Annotated[Principal, Depends(require_roles("ops"))]
Session = Annotated[AsyncSession, Depends(db_session)]


@router.get(
    "/procedures",
    response_model=list[ProcedureOut],
    summary="List procedures",
    description="Danh mục thủ tục hành chính (công khai): mã, tên, lĩnh vực, thời hạn giải quyết, phiên bản hiện hành.",
)
async def list_procedures(
    session: Session,
    field: Annotated[str | None, Query(max_length=200, description="lĩnh vực")] = None,
    include_retired: bool = False,
) -> list[Procedure]:
    query = select(Procedure).order_by(Procedure.key)
    if not include_retired:
        query = query.where(Procedure.retired_at.is_(None))
    if field:
        query = query.where(Procedure.field == field)
    return list((await session.scalars(query)).all())


@router.get(
    "/procedures/{key}",
    response_model=ProcedureDetail,
    summary="Read a procedure",
    description="Thủ tục hành chính, phiên bản hiện hành, đầy đủ: thành phần hồ sơ, phí, lệ phí, quy trình.",
)
async def get_procedure(key: str, session: Session, response: Response) -> ProcedureDetail:
    procedure = await session.get(Procedure, key)
    if procedure is None:
        raise not_found("procedure", "thủ tục")
    return await get_procedure_version(key, procedure.version, session, response)


@router.get(
    "/procedures/{key}/versions/{version}",
    response_model=ProcedureDetail,
    summary="Read one version of a procedure",
    description="Một phiên bản của thủ tục: quy định mà hồ sơ tiếp nhận theo phiên bản đó phải tuân theo.",
)
async def get_procedure_version(
    key: str,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: Session,
    response: Response,
) -> ProcedureDetail:
    row = await session.get(ProcedureVersion, (key, version))
    if row is None:
        raise not_found("procedure version", "phiên bản thủ tục")
    response.headers["ETag"] = f'"{version}"'
    return ProcedureDetail(
        key=row.key,
        version=row.version,
        data=row.data,
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def _publish(
    session: AsyncSession, runtime: Runtime, row: dict, version: int, retired: bool = False
) -> None:
    await runtime.outbox.add(
        session,
        ProcedurePublished(
            procedure_key=row["key"],
            code=row["code"],
            name=row["name"],
            field=row["field"],
            version=version,
            processing_working_days=row["processing_working_days"],
            fee_amount_vnd=fee_amount(ProcedureRules.of(row["data"]), Channel.direct),
            route=row["data"].get("route"),
            retired=retired,
        ),
        subject=row["key"],
    )


@router.post(
    "/procedures",
    status_code=201,
    response_model=ProcedureDetail,
    summary="Add a procedure",
    description="Thêm thủ tục vào danh mục (vai trò vận hành). Thay đổi được phát lên topic `intake.catalogue.v1`.",
)
async def create_procedure(
    body: ProcedureIn,
    principal: Ops,
    session: Session,
    response: Response,
    runtime: Annotated[Runtime, Depends(runtime_of)],
) -> ProcedureDetail:
    row = procedure_row(body.model_dump(mode="json", exclude_none=True))
    async with session.begin():
        if await session.get(Procedure, body.key) is not None:
            raise conflict(
                f"procedure {body.key} exists; change it with PUT", f"thủ tục {body.key} đã có"
            )
        session.add(Procedure(**row))
        now = dt.datetime.now(dt.UTC)
        session.add(
            ProcedureVersion(
                key=body.key, version=1, data=row["data"], created_by=principal.sub, created_at=now
            )
        )
        await _publish(session, runtime, row, 1)
    response.headers["ETag"] = '"1"'
    return ProcedureDetail(
        key=body.key, version=1, data=row["data"], created_by=principal.sub, created_at=now
    )


@router.put(
    "/procedures/{key}",
    response_model=ProcedureDetail,
    responses=IF_MATCH_RESPONSES,
    summary="Change a procedure",
    description="Sửa thủ tục: tạo phiên bản mới; hồ sơ đã tiếp nhận giữ phiên bản cũ. Cần `If-Match` với phiên bản hiện hành.",
)
async def update_procedure(
    key: str,
    body: ProcedureIn,
    principal: Ops,
    session: Session,
    response: Response,
    runtime: Annotated[Runtime, Depends(runtime_of)],
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> ProcedureDetail:
    if body.key != key:
        raise Problem(
            422, "key-mismatch", "The body's key differs from the path", "Mã thủ tục không khớp"
        )
    row = procedure_row(body.model_dump(mode="json", exclude_none=True))
    async with session.begin():
        current = await session.scalar(
            select(Procedure).where(Procedure.key == key).with_for_update()
        )
        if current is None:
            raise not_found("procedure", "thủ tục")
        if expected_version(if_match) != current.version:
            raise precondition_failed()
        version = current.version + 1
        for name, value in row.items():
            setattr(current, name, value)
        current.version = version
        session.add(
            ProcedureVersion(key=key, version=version, data=row["data"], created_by=principal.sub)
        )
        await _publish(session, runtime, row, version)
    response.headers["ETag"] = f'"{version}"'
    return ProcedureDetail(
        key=key,
        version=version,
        data=row["data"],
        created_by=principal.sub,
        created_at=dt.datetime.now(dt.UTC),
    )


@router.post(
    "/procedures/{key}/retire",
    response_model=ProcedureOut,
    summary="Retire a procedure",
    description=(
        "Ngừng áp dụng thủ tục (vai trò vận hành): không nhận hồ sơ mới; hồ sơ đã tiếp nhận giữ "
        "phiên bản của mình; lịch sử các phiên bản vẫn đọc được. Thay đổi được phát lên "
        "`intake.catalogue.v1`."
    ),
)
async def retire_procedure(
    key: str, _: Ops, session: Session, runtime: Annotated[Runtime, Depends(runtime_of)]
) -> Procedure:
    async with session.begin():
        procedure = await session.scalar(
            select(Procedure).where(Procedure.key == key).with_for_update()
        )
        if procedure is None:
            raise not_found("procedure", "thủ tục")
        if procedure.retired_at is None:
            procedure.retired_at = dt.datetime.now(dt.UTC)
            row = {
                "key": procedure.key,
                "code": procedure.code,
                "name": procedure.name,
                "field": procedure.field,
                "processing_working_days": procedure.processing_working_days,
                "data": procedure.data,
            }
            await _publish(session, runtime, row, procedure.version, retired=True)
    return procedure


def _no_active_unit(field: str, what: str, what_vi: str) -> Problem:
    return Problem(
        422,
        "unknown-unit",
        f"Unknown {what}",
        f"Không có {what_vi} này",
        errors=[
            {
                "field": field,
                "message": "no active unit with this code",
                "message_vi": "không có đơn vị đang hoạt động với mã này",
            }
        ],
    )


@router.get(
    "/units",
    response_model=list[UnitOut],
    summary="List administrative units",
    description="Đơn vị hành chính (công khai), lọc theo đơn vị cha; ví dụ `parent_code=01` cho các xã, phường của Hà Nội.",
)
async def list_units(
    session: Session,
    parent_code: Annotated[str | None, Query(max_length=16)] = None,
    include_retired: bool = False,
) -> list[Unit]:
    query = select(Unit).order_by(Unit.code)
    if not include_retired:
        query = query.where(Unit.retired_at.is_(None))
    query = (
        query.where(Unit.parent_code == parent_code)
        if parent_code
        else query.where(Unit.parent_code.is_(None))
    )
    return list((await session.scalars(query)).all())


@router.post(
    "/units",
    status_code=201,
    response_model=UnitOut,
    summary="Add an administrative unit",
    description="Thêm đơn vị hành chính vào cây (bất kỳ độ sâu nào), ví dụ khi sắp xếp lại đơn vị.",
)
async def create_unit(body: UnitIn, _: Ops, session: Session) -> Unit:
    async with session.begin():
        if await session.get(Unit, body.code) is not None:
            raise conflict(f"unit {body.code} exists", f"đơn vị {body.code} đã có")
        path = body.code
        if body.parent_code:
            parent = await session.get(Unit, body.parent_code)
            if parent is None or parent.retired_at is not None:
                raise _no_active_unit("body.parent_code", "parent unit", "đơn vị cấp trên")
            path = f"{parent.path}.{body.code}"
        unit = Unit(
            code=body.code,
            name=body.name,
            level=body.level,
            parent_code=body.parent_code,
            path=path,
        )
        session.add(unit)
    return unit


@router.post(
    "/units/{code}/retire",
    response_model=UnitOut,
    summary="Retire an administrative unit",
    description="Ngừng hoạt động một đơn vị (không xóa): hồ sơ và lịch sử của đơn vị vẫn đọc được.",
)
async def retire_unit(code: str, _: Ops, session: Session) -> Unit:
    async with session.begin():
        unit = await session.scalar(select(Unit).where(Unit.code == code).with_for_update())
        if unit is None:
            raise not_found("unit", "đơn vị hành chính")
        active_children = await session.scalar(
            select(func.count()).where(Unit.parent_code == code, Unit.retired_at.is_(None))
        )
        if active_children:
            raise conflict(
                "retire the unit's active children first",
                "cần ngừng hoạt động các đơn vị cấp dưới trước",
            )
        unit.retired_at = unit.retired_at or dt.datetime.now(dt.UTC)
    return unit


@router.get(
    "/agencies",
    response_model=list[AgencyOut],
    summary="List agencies",
    description="Cơ quan: Bộ phận Một cửa, Trung tâm Phục vụ hành chính công, sở ngành, văn phòng đăng ký đất đai, thuế, công an, BHXH.",
)
async def list_agencies(
    session: Session,
    unit_code: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Agency]:
    query = select(Agency).where(Agency.retired_at.is_(None)).order_by(Agency.code).limit(limit)
    if unit_code:
        query = query.where(Agency.unit_code == unit_code)
    if kind:
        query = query.where(Agency.kind == kind)
    return list((await session.scalars(query)).all())


@router.get(
    "/agencies/{code}",
    response_model=AgencyOut,
    summary="Read an agency",
    description=(
        "Một cơ quan theo mã, kể cả cơ quan đã ngừng hoạt động (`retired_at`); mã không có trả "
        "404. Workflow đọc ở đây trước khi chuyển bước đến cơ quan ngoài quy trình."
    ),
)
async def get_agency(code: Annotated[str, Path(max_length=64)], session: Session) -> Agency:
    agency = await session.get(Agency, code)
    if agency is None:
        raise not_found("agency", "cơ quan")
    return agency


@router.post(
    "/agencies",
    status_code=201,
    response_model=AgencyOut,
    summary="Add an agency",
    description="Thêm cơ quan tham gia giải quyết hồ sơ.",
)
async def create_agency(body: AgencyIn, _: Ops, session: Session) -> Agency:
    async with session.begin():
        if await session.get(Agency, body.code) is not None:
            raise conflict(f"agency {body.code} exists", f"cơ quan {body.code} đã có")
        unit = await session.get(Unit, body.unit_code)
        if unit is None or unit.retired_at is not None:
            raise _no_active_unit("body.unit_code", "administrative unit", "đơn vị hành chính")
        agency = Agency(code=body.code, name=body.name, kind=body.kind, unit_code=body.unit_code)
        session.add(agency)
    return agency


@router.post(
    "/agencies/{code}/retire",
    response_model=AgencyOut,
    summary="Retire an agency",
    description="Ngừng hoạt động một cơ quan (không xóa lịch sử).",
)
async def retire_agency(code: str, _: Ops, session: Session) -> Agency:
    async with session.begin():
        agency = await session.scalar(select(Agency).where(Agency.code == code).with_for_update())
        if agency is None:
            raise not_found("agency", "cơ quan")
        agency.retired_at = agency.retired_at or dt.datetime.now(dt.UTC)
    return agency
