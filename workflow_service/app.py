"""Workflow service: ``uvicorn workflow_service.app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.app import create_service_app
from shared.events import topics
from shared.runtime import Runtime
from workflow_service.agencies.router import router as agencies_router
from workflow_service.apologies.router import router as apologies_router
from workflow_service.calendar.service import CalendarBook
from workflow_service.cases.router import router as cases_router
from workflow_service.control_sheet.router import router as control_sheet_router
from workflow_service.db.models import MESSAGING
from workflow_service.domain import authority
from workflow_service.domain.cases import markdown_table
from workflow_service.events.handlers import make_handlers
from workflow_service.results.keys import SigningKeys
from workflow_service.results.router import router as results_router
from workflow_service.routes.router import router as routes_router
from workflow_service.settings import WorkflowSettings
from workflow_service.steps.router import router as steps_router
from workflow_service.timers.service import run_timers

DESCRIPTION = f"""
Giải quyết hồ sơ liên thông: mở hồ sơ xử lý khi hồ sơ được tiếp nhận, chuyển bước giữa các cơ
quan với thời hạn từng bước, tạm dừng, trả kết quả.

Inter-agency processing: a case per received dossier, routed between agencies with a deadline per
step; durable timers announce overdue steps and cases.

Who may act on a step (thẩm quyền): an officer of the step's agency — the token's `agency`
claim or a membership ops records under `/v1/agencies/{{code}}/members` — holding the role the
step's template names; cases end only at the route's last (deciding) step, by an approver of its
agency, whose key signs the result. Anything not listed is refused with 403:

{authority.markdown_table()}

Actions on a case (`POST /v1/cases/{{id}}/{{action}}` with `If-Match`) by the state of the case and
of its current step (anything else is 409):

{markdown_table()}
"""


def create_app(settings: WorkflowSettings | None = None) -> FastAPI:
    settings = settings or WorkflowSettings()
    book = CalendarBook(ttl=settings.calendar_cache_ttl_s)

    async def timers(runtime: Runtime) -> None:
        await run_timers(
            runtime.sessionmaker,
            runtime.outbox,
            interval_s=settings.timer_poll_interval_s,
            batch=settings.timer_batch_size,
        )

    def build_runtime() -> Runtime:
        return Runtime.build(
            settings,
            MESSAGING,
            lambda outbox: make_handlers(outbox, book),
            [topics.DOSSIERS, topics.PAYMENTS, topics.CATALOGUE],
            workers=[timers] if settings.timers_enabled else [],
        )

    app = create_service_app(
        settings,
        build_runtime,
        title="Một Cửa — Workflow (Giải quyết liên thông)",
        description=DESCRIPTION,
        version="0.1.0",
        publishes=[topics.CASES],
        consumes=[topics.DOSSIERS, topics.PAYMENTS, topics.CATALOGUE],
        routers=[
            steps_router,
            routes_router,
            cases_router,
            control_sheet_router,
            apologies_router,
            results_router,
            agencies_router,
        ],
        openapi_tags=[
            {"name": "cases", "description": "Hồ sơ xử lý: các bước, thao tác, phiếu kiểm soát"},
            {"name": "work queues", "description": "Danh sách việc của cán bộ, vai trò, cơ quan"},
            {"name": "routes", "description": "Quy trình liên thông theo thủ tục"},
            {"name": "results", "description": "Kết quả điện tử có ký số: tải về, kiểm tra"},
            {"name": "agencies", "description": "Cán bộ thuộc cơ quan (thẩm quyền xử lý bước)"},
        ],
    )
    app.state.calendar_book = book
    app.state.signing_keys = SigningKeys(
        settings.pki_dir, settings.signing_keys_dir, settings.signing_trust_roots_file
    )
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app()
    raise AttributeError(name)
