"""Payment service: ``uvicorn payment_service.app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from payment_service.api import fee_requests
from payment_service.db.models import MESSAGING
from payment_service.events.handlers import make_handlers
from payment_service.settings import PaymentSettings
from shared.app import create_service_app
from shared.events import topics
from shared.runtime import Runtime

DESCRIPTION = """
Thanh toán phí, lệ phí: yêu cầu nộp phí cho hồ sơ, thanh toán trực tuyến, biên lai điện tử.

Fees and charges: fee requests per dossier, online payment, e-receipts.
"""


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()

    return create_service_app(
        settings,
        lambda: Runtime.build(settings, MESSAGING, make_handlers, [topics.DOSSIERS, topics.CASES]),
        title="Một Cửa — Payment (Thanh toán phí, lệ phí)",
        description=DESCRIPTION,
        version="0.1.0",
        routers=[fee_requests.router],
        openapi_tags=[{"name": "fees", "description": "Phí, lệ phí"}],
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app()
    raise AttributeError(name)
