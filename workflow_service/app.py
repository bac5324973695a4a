"""Workflow service: ``uvicorn workflow_service.app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.app import create_service_app
from shared.events import topics
from shared.runtime import Runtime
from workflow_service.api import cases
from workflow_service.db.models import MESSAGING
from workflow_service.events.handlers import make_handlers
from workflow_service.settings import WorkflowSettings

DESCRIPTION = """
Giải quyết hồ sơ liên thông: mở hồ sơ xử lý khi hồ sơ được tiếp nhận, chuyển bước giữa các cơ
quan với thời hạn từng bước, tạm dừng, trả kết quả.

Inter-agency processing: a case per received dossier, routed between agencies with a deadline per
step.
"""


def create_app(settings: WorkflowSettings | None = None) -> FastAPI:
    settings = settings or WorkflowSettings()

    return create_service_app(
        settings,
        lambda: Runtime.build(
            settings, MESSAGING, make_handlers, [topics.DOSSIERS, topics.PAYMENTS]
        ),
        title="Một Cửa — Workflow (Giải quyết liên thông)",
        description=DESCRIPTION,
        version="0.1.0",
        routers=[cases.router],
        openapi_tags=[{"name": "cases", "description": "Hồ sơ xử lý"}],
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app()
    raise AttributeError(name)
