"""The payment sandbox: ``uvicorn services.sandbox.app:app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from services.sandbox import bank, control, vnpay
from services.sandbox.delivery import Background
from services.sandbox.settings import SandboxSettings

DESCRIPTION = """
Môi trường giả lập các hệ thống thanh toán bên ngoài mà hệ thống Một Cửa không vận hành:
cổng thanh toán VNPay 2.1.0 (trang thanh toán, IPN, querydr/refund, bảng kê đối soát) và một
ngân hàng nhận chuyển khoản VietQR (thông báo ghi có có chữ ký, sao kê).
`/_sandbox/…` điều khiển giả lập (trễ, trùng, đảo thứ tự, mất, giả mạo thông điệp); không thuộc giao thức thật.

Stand-in for the external payment world: a VNPay 2.1.0 gateway and a bank. Not one of our services.
"""


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    settings = settings or SandboxSettings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # Every IPN and notice is in the journal (/_sandbox/…); a log line per request is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background = Background()
        async with httpx.AsyncClient() as client:
            app.state.gateway = vnpay.Gateway(settings, client, background)
            app.state.bank = bank.Bank(settings, client, background)
            try:
                yield
            finally:
                # Re-sends in flight die with the sandbox, as its memory does.
                await background.cancel_all()

    app = FastAPI(
        title="Một Cửa — Sandbox (VNPay, ngân hàng)",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        openapi_tags=[
            {"name": "vnpay", "description": "Cổng thanh toán VNPay 2.1.0"},
            {"name": "bank", "description": "Ngân hàng: thông báo ghi có, sao kê"},
            {"name": "sandbox control", "description": "Điều khiển giả lập, chỉ cho kiểm thử"},
            {"name": "ops", "description": "Vận hành: sức khỏe"},
        ],
    )
    app.state.settings = settings

    @app.get("/healthz", tags=["ops"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Readiness")
    async def readyz() -> dict[str, Any]:
        # Nothing to depend on: memory only. Say what the sandbox was configured with.
        return {
            "status": "ready",
            "terminals": sorted(settings.vnpay_terminals),
            "ipn_url": settings.ipn_url,
            "bank_notice_url": settings.bank_notice_url,
        }

    app.include_router(vnpay.router)
    app.include_router(bank.router)
    app.include_router(control.router)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return create_app()
    raise AttributeError(name)
