"""Payment service: ``uvicorn payment_service.app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from payment_service.bank import router as bank
from payment_service.cash import router as cash
from payment_service.db.models import MESSAGING
from payment_service.events.handlers import make_handlers
from payment_service.exceptions import router as exceptions
from payment_service.gateways import router as gateways
from payment_service.mopup.service import make_worker
from payment_service.payments import router as payments
from payment_service.receipts import router as receipts
from payment_service.reconciliation import router as reconciliation
from payment_service.refunds import router as refunds
from payment_service.settings import PaymentSettings
from shared.app import create_service_app
from shared.clock import utcnow
from shared.events import topics
from shared.runtime import Runtime

DESCRIPTION = """
Thanh toán phí, lệ phí và nghĩa vụ tài chính của hồ sơ: yêu cầu thanh toán, cổng thanh toán
VNPay (IPN có chữ ký), chuyển khoản VietQR, thu tiền mặt và nộp hộ tại quầy, biên lai điện tử,
hoàn tiền, đối soát.

Fees, charges and financial obligations of dossiers: payment requests, the VNPay gateway (signed
IPN), VietQR transfers, cash and paid-on-behalf at the desk, e-receipts, refunds, reconciliation.
"""

ROUTERS = [
    payments.router,
    gateways.router,
    cash.router,
    bank.router,
    receipts.router,
    refunds.router,
    exceptions.router,
    reconciliation.router,
]


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()

    return create_service_app(
        settings,
        lambda: Runtime.build(
            settings,
            MESSAGING,
            make_handlers,
            [topics.DOSSIERS, topics.CASES],
            workers=[make_worker(utcnow)],
        ),
        title="Một Cửa — Payment (Thanh toán phí, lệ phí)",
        description=DESCRIPTION,
        version="0.2.0",
        publishes=[topics.PAYMENTS],
        consumes=[topics.DOSSIERS, topics.CASES],
        routers=ROUTERS,
        openapi_tags=[
            {"name": "payments", "description": "Yêu cầu thanh toán, giao dịch"},
            {"name": "gateways", "description": "Cổng thanh toán: IPN, trang trở về"},
            {
                "name": "cash",
                "description": "Thu tiền mặt, nộp hộ tại quầy, hủy thu nhầm, chốt quỹ",
            },
            {"name": "bank", "description": "Chuyển khoản: báo có của ngân hàng, sao kê"},
            {"name": "receipts", "description": "Biên lai điện tử, dải số biên lai"},
            {"name": "refunds", "description": "Hoàn tiền"},
            {"name": "exceptions", "description": "Giao dịch ngoại lệ cho cán bộ tài chính"},
            {"name": "reconciliations", "description": "Đối soát với cổng thanh toán, ngân hàng"},
        ],
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app()
    raise AttributeError(name)
