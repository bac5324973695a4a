"""Daily reconciliation over HTTP: parse, call one service function, shape."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from payment_service.common.deps import (
    Caller,
    Cursor,
    IdempotencyKey,
    Limit,
    Session,
    Settings,
)
from payment_service.common.idempotency import request_hash, run_once
from payment_service.gateways.vnpay_client import VnpayClient
from payment_service.reconciliation import report, service
from payment_service.reconciliation.schemas import (
    AGENCY_CODE,
    Method,
    ReconciliationCreate,
    RunOut,
    RunPage,
)
from shared.bounds import BoundedDate
from shared.clock import Now
from shared.errors import PROBLEM_RESPONSES, ProblemModel
from shared.http.commit import CommitRoute

router = APIRouter(tags=["reconciliations"], responses=PROBLEM_RESPONSES, route_class=CommitRoute)

_STATEMENT_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    502: {
        "model": ProblemModel,
        "description": "Bad gateway — không lấy được hoặc không xác thực được bảng kê; "
        "không có gì được ghi",
        "content": {"application/problem+json": {}},
    }
}


@router.post(
    "/v1/reconciliations",
    status_code=201,
    response_model=RunOut,
    summary="Reconcile one day of one collecting agency and method",
    description=(
        "Đối soát một ngày (giờ Việt Nam) của một đơn vị thu: `vnpay` đối chiếu các giao dịch "
        "thanh toán qua cổng (đã thanh toán trong ngày) và các lần hoàn tiền thành công trong "
        "ngày với bảng kê có chữ ký của cổng VNPay cho mã website của đơn vị; `vietqr` đối "
        "chiếu các khoản báo có đã khớp với giao dịch trong ngày với sao kê có chữ ký của ngân "
        "hàng cho tài khoản của đơn vị. Mỗi dòng của cả hai bên có đúng một kết quả: khớp, chỉ "
        "có trong hệ thống, chỉ có trong sao kê (kể cả tiền vào tài khoản mà hệ thống chưa "
        "gán được cho giao dịch nào), lệch số tiền, sao kê ghi trùng.\n\n"
        "Mỗi (đơn vị, phương thức, ngày) có một kết quả: chạy lại thay kết quả cũ và tăng "
        "`runs`; dữ liệu hai bên không đổi thì kết quả không đổi. Lần đầu trả 201, chạy lại "
        "trả 200. Không lấy được hoặc không xác thực được bảng kê: 502, không ghi gì. "
        "`Idempotency-Key`: cùng khóa, cùng nội dung nhận lại câu trả lời đầu.\n\n"
        "Quyền: cán bộ tài chính của đơn vị (hoặc cấp trên) của đơn vị thu; vận hành (ops)."
    ),
    responses=_STATEMENT_UNAVAILABLE,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "agency_code": "motcua-00070",
                        "method": "vnpay",
                        "day": "2026-12-03",
                    }
                }
            }
        }
    },
)
async def reconcile(
    body: ReconciliationCreate,
    response: Response,
    principal: Caller,
    session: Session,
    settings: Settings,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> RunOut:
    client = VnpayClient.from_settings(settings)
    status, answer = await run_once(
        session,
        idempotency_key,
        principal.sub,
        "reconcile",
        request_hash(body),
        lambda: service.run(session, settings, client, principal, body, now),
    )
    response.status_code = status
    response.headers["Location"] = f"/v1/reconciliations/{answer['id']}"
    return RunOut.model_validate(answer)


@router.get(
    "/v1/reconciliations",
    response_model=RunPage,
    summary="List reconciliation runs",
    description=(
        "Các kết quả đối soát trong phạm vi đơn vị của cán bộ (không kèm từng dòng), theo ngày; "
        "lọc theo đơn vị thu, phương thức, khoảng ngày."
    ),
)
async def list_runs(
    principal: Caller,
    session: Session,
    agency_code: Annotated[str | None, Query(pattern=AGENCY_CODE)] = None,
    method: Annotated[Method | None, Query()] = None,
    day_from: Annotated[BoundedDate | None, Query(description="từ ngày (giờ Việt Nam)")] = None,
    day_to: Annotated[BoundedDate | None, Query(description="đến ngày (giờ Việt Nam)")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RunPage:
    return await service.list_runs(
        session,
        principal,
        agency_code=agency_code,
        method=method,
        day_from=day_from,
        day_to=day_to,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/v1/reconciliations/{run_id}",
    response_model=RunOut,
    summary="Read a reconciliation run with its items",
    description="Một kết quả đối soát với từng dòng và bảng tổng hợp; ngoài phạm vi trả 404.",
)
async def read_run(run_id: uuid.UUID, principal: Caller, session: Session) -> RunOut:
    return await service.read(session, principal, run_id)


@router.get(
    "/v1/reconciliations/{run_id}/report.csv",
    summary="The reconciliation report as CSV (opens in Excel)",
    description=(
        "Báo cáo đối soát dạng CSV, UTF-8 có BOM để Excel hiển thị đúng tiếng Việt: dòng tiêu "
        "đề song ngữ Việt–Anh, mỗi dòng kết quả một hàng, sau đó bảng tổng hợp theo loại."
    ),
    responses={200: {"content": {"text/csv": {}}}},
)
async def report_csv(run_id: uuid.UUID, principal: Caller, session: Session) -> Response:
    run = await service.read(session, principal, run_id)
    return Response(
        report.csv_report(run),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{report.file_name(run, "csv")}"'},
    )
