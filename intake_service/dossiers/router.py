"""Dossier routes: submission, reading, listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from intake_service.domain.lifecycle import DossierStatus
from intake_service.dossiers import service
from intake_service.dossiers.desk import SubmittingDesk
from intake_service.dossiers.errors import SUBMISSION_PROBLEMS, DossierNotFound
from intake_service.dossiers.schemas import DossierCreate, DossierOut, DossierPage
from intake_service.lifecycle.service import Context
from shared.auth import Principal, current_principal
from shared.errors import PROBLEM_RESPONSES, problem_responses
from shared.http.commit import CommitRoute
from shared.http.deps import Session

router = APIRouter(
    prefix="/v1/dossiers",
    tags=["dossiers"],
    responses=PROBLEM_RESPONSES,
    route_class=CommitRoute,
)


@router.post(
    "",
    status_code=201,
    response_model=DossierOut,
    summary="Submit a dossier",
    description=(
        "Nộp hồ sơ qua một trong bốn kênh: trực tuyến, trực tiếp tại Bộ phận Một cửa, bưu chính, "
        "hoặc hệ thống tích hợp (LGSP/NGSP). Cán bộ tiếp nhận và hệ thống tích hợp chỉ nộp vào đơn "
        "vị mình phụ trách; công dân nộp trực tuyến. Hồ sơ được tiếp nhận, cấp mã và ngày hẹn trả "
        "kết quả tính theo ngày làm việc (hoặc giờ làm việc, với thủ tục quy định theo giờ). Hồ sơ "
        "trực tiếp được tiếp nhận ngay; hồ sơ trực tuyến, "
        "bưu chính, tích hợp chờ cán bộ kiểm tra (`receive_now` để đổi mặc định). `Idempotency-Key`: gửi lại cùng khóa, cùng nội dung nhận "
        "lại đúng câu trả lời đầu; cùng khóa, khác nội dung nhận 422. Công dân nộp trực tuyến cho "
        "người khác (số định danh người nộp khác người đăng nhập) phải kê khai `representative` "
        "(người được ủy quyền: chính người đăng nhập, quan hệ, văn bản ủy quyền), nếu không trả "
        "422; cán bộ tiếp nhận cũng có thể ghi người được ủy quyền."
    ),
    responses={
        200: {
            "model": DossierOut,
            "description": "nộp lại cùng mã hồ sơ của hệ thống nguồn (source_system, "
            "external_id): hồ sơ đã nộp trước đó, không tạo hồ sơ mới",
        },
        **problem_responses(*SUBMISSION_PROBLEMS),
    },
)
async def submit_dossier(
    body: DossierCreate,
    desk: SubmittingDesk,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="khóa chống gửi trùng")
    ] = None,
) -> Response:
    # No request session: the submission is one statement of its own transaction, committed
    # before this returns; the answer is serialised once, from the model the service built
    # (``response_model`` above documents it).
    runtime = desk.runtime
    context = Context(
        outbox=runtime.outbox,
        calendar=desk.calendar,
        applicant_ref_key=runtime.settings.applicant_ref_key.get_secret_value(),
        now=desk.now,
    )
    submitted = await service.submit(
        desk.reference, runtime.sessionmaker, desk.principal, body, context, idempotency_key
    )
    dossier = submitted.dossier
    return Response(
        content=dossier.__pydantic_serializer__.to_json(dossier),
        status_code=201 if submitted.created else 200,
        media_type="application/json",
        headers={"ETag": f'"{dossier.version}"', "Location": f"/v1/dossiers/{dossier.code}"},
    )


@router.get(
    "/{code}",
    response_model=DossierOut,
    summary="Read a dossier",
    description=(
        "Xem hồ sơ theo mã, kèm lịch sử xử lý và các khoản phí, lệ phí, nghĩa vụ tài chính "
        "(phải nộp, đã nộp, đã hoàn trả, số biên lai). Việc nộp tiền không đổi phiên bản hồ sơ "
        "(ETag). Hồ sơ ngoài phạm vi đơn vị của người xem trả 404; công dân chỉ xem hồ sơ của "
        "mình hoặc hồ sơ mình nộp thay với tư cách người được ủy quyền."
    ),
    responses=problem_responses(DossierNotFound),
)
async def get_dossier(
    code: str,
    response: Response,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Session,
) -> DossierOut:
    dossier = await service.read(session, principal, code)
    response.headers["ETag"] = f'"{dossier.version}"'
    return dossier


@router.get(
    "",
    response_model=DossierPage,
    summary="List dossiers",
    description="Danh sách hồ sơ trong phạm vi đơn vị của người xem (công dân: hồ sơ của mình "
    "và hồ sơ mình nộp thay), sắp theo thời gian tạo; phân trang bằng con trỏ.",
)
async def list_dossiers(
    principal: Annotated[Principal, Depends(current_principal)],
    session: Session,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[DossierStatus | None, Query(description="lọc theo trạng thái")] = None,
) -> DossierPage:
    return await service.list_page(session, principal, status=status, cursor=cursor, limit=limit)
