"""Metrics service: ``uvicorn metrics_service.app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from metrics_service.db.models import MESSAGING
from metrics_service.events.handlers import make_handlers
from metrics_service.facts import router as facts
from metrics_service.indicators import router as indicators
from metrics_service.settings import MetricsSettings
from shared.app import create_service_app
from shared.events import topics
from shared.runtime import Runtime

DESCRIPTION = """
Chỉ số theo thời gian thực (Quyết định 766/QĐ-TTg): số hồ sơ tiếp nhận theo kênh, tỷ lệ nộp trực
tuyến, đúng hạn, số hóa, thanh toán trực tuyến, theo đơn vị, kỳ, thủ tục.

Real-time indicators built from every topic: facts per dossier, counters per unit × period ×
procedure × channel, ratios as numerator and denominator.
"""


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    settings = settings or MetricsSettings()

    return create_service_app(
        settings,
        lambda: Runtime.build(settings, MESSAGING, make_handlers, topics.ALL_TOPICS),
        title="Một Cửa — Metrics (Chỉ số phục vụ người dân, doanh nghiệp)",
        description=DESCRIPTION,
        version="0.1.0",
        consumes=topics.ALL_TOPICS,
        routers=[indicators.router, facts.router],
        openapi_tags=[
            {"name": "indicators", "description": "Chỉ số: tiếp nhận, đúng hạn, trực tuyến, số hóa"}
        ],
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app()
    raise AttributeError(name)
