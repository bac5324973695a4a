"""Intake service: ``uvicorn intake_service.app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from intake_service.calendar.router import router as calendar_router
from intake_service.catalogue.router import router as catalogue_router
from intake_service.db.models import MESSAGING
from intake_service.documents import router as documents
from intake_service.dossiers.router import router as dossiers_router
from intake_service.events.handlers import HANDLERS
from intake_service.integration.router import router as integration_router
from intake_service.lifecycle.router import router as lifecycle_router
from intake_service.lookup import page_router as lookup_page
from intake_service.lookup import router as lookup
from intake_service.ratings import router as ratings
from intake_service.reference.state import Reference
from intake_service.settings import IntakeSettings
from intake_service.slips import router as slips
from intake_service.units.router import router as units_router
from shared.app import create_service_app
from shared.events import topics
from shared.runtime import Runtime

DESCRIPTION = """
Tiếp nhận hồ sơ thủ tục hành chính theo cơ chế một cửa, một cửa liên thông: danh mục thủ tục,
đơn vị hành chính, nộp hồ sơ qua bốn kênh, mã hồ sơ và ngày hẹn trả kết quả, tra cứu trạng thái.

Reception of administrative-procedure dossiers: catalogue, units, submission through four
channels, dossier codes and appointment dates, status. Errors are `application/problem+json`
with a Vietnamese title beside the English one.
"""


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    # Built before the app so its catalogue listener runs as one of the runtime's workers.
    reference = Reference(settings)
    app = create_service_app(
        settings,
        lambda: Runtime.build(
            settings,
            MESSAGING,
            lambda _outbox: HANDLERS,
            [topics.CASES, topics.PAYMENTS],
            workers=[reference.run],
        ),
        title="Một Cửa — Intake (Tiếp nhận hồ sơ)",
        description=DESCRIPTION,
        version="0.1.0",
        publishes=[topics.CATALOGUE, topics.DOSSIERS],
        consumes=[topics.CASES, topics.PAYMENTS],
        routers=[
            lifecycle_router,
            documents.router,
            ratings.router,
            slips.router,
            dossiers_router,
            lookup.router,
            lookup_page.router,
            integration_router,
            catalogue_router,
            units_router,
            calendar_router,
        ],
        openapi_tags=[
            {"name": "dossiers", "description": "Hồ sơ: nộp, xem, danh sách"},
            {
                "name": "dossier lifecycle",
                "description": "Tiếp nhận, yêu cầu bổ sung, từ chối, rút, trả kết quả",
            },
            {
                "name": "catalogue",
                "description": "Danh mục thủ tục, đơn vị hành chính và cơ quan",
            },
            {
                "name": "dossier slips",
                "description": "Phiếu tiếp nhận, yêu cầu bổ sung, từ chối (JSON, PDF)",
            },
            {"name": "calendar", "description": "Lịch làm việc: ngày lễ, nghỉ bù, làm việc bù"},
        ],
    )
    app.state.reference = reference
    return app


def __getattr__(name: str) -> Any:
    # ``uvicorn intake_service.app:app`` builds the app on first access, from the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
