"""Helpers for the payment tests: a received dossier with its fee request, tokens of finance
officers, paying through the sandbox gateway, reading the payment service's tables."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from services.stack import Stack
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM, PIPELINE_WAIT_S, Tokens, dossier_body, eventually

WARD_PATH = f"{HANOI}.{HOAN_KIEM}"


def finance(
    tokens: Tokens, unit: str = HOAN_KIEM, path: str = WARD_PATH, sub: str | None = None
) -> dict[str, str]:
    return tokens.bearer(sub or f"cb.taichinh.{unit}", ["finance"], unit, path)


def receptionist(
    tokens: Tokens, unit: str = HOAN_KIEM, path: str = WARD_PATH, sub: str | None = None
) -> dict[str, str]:
    return tokens.bearer(sub or f"cb.tiepnhan.{unit}", ["receptionist"], unit, path)


async def received_dossier(
    http: httpx.AsyncClient,
    stack: Stack,
    tokens: Tokens,
    *,
    unit: str = HOAN_KIEM,
    path: str = WARD_PATH,
    procedure_key: str = "dang-ky-thuong-tru",
) -> dict[str, Any]:
    """A dossier received on the spot at ``unit``'s desk (fee 20,000 VND by default)."""
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        json=dossier_body(procedure_key, unit_code=unit),
        headers=receptionist(tokens, unit, path),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def open_request(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    dossier_id: str,
    purpose: str = "fee",
    timeout: float = PIPELINE_WAIT_S,
) -> dict[str, Any]:
    """Wait until payment raised the dossier's open request for ``purpose``."""

    async def probe() -> dict[str, Any] | None:
        r = await http.get(
            f"{stack.url('payment')}/v1/payment-requests",
            params={"dossier_id": dossier_id, "status": "open"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        found = [i for i in r.json()["items"] if i["purpose"] == purpose]
        return found[0] if found else None

    return await eventually(probe, timeout=timeout, interval=0.2)


async def start_vnpay(
    http: httpx.AsyncClient, stack: Stack, headers: dict[str, str], request_id: str
) -> dict[str, Any]:
    """Start a VNPay payment and open its pay page at the gateway, as the browser would."""
    r = await http.post(
        f"{stack.url('payment')}/v1/payments",
        json={"request_id": request_id, "method": "vnpay"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    payment = r.json()
    page = await http.get(payment["pay_url"])
    assert page.status_code == 200, page.text
    return payment


async def gateway_pays(
    http: httpx.AsyncClient, stack: Stack, reference: str, **options: Any
) -> dict[str, Any]:
    """The customer pays at the sandbox gateway; ``options`` go to the control call (``ipn``,
    ``amount_vnd``, ``action``)."""
    r = await http.post(
        f"{stack.url('sandbox')}/_sandbox/vnpay/pay",
        json={"tmn_code": stack.sandbox_secrets["tmn_code"], "txn_ref": reference, **options},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def read_payment(
    http: httpx.AsyncClient, stack: Stack, headers: dict[str, str], payment_id: str
) -> dict[str, Any]:
    r = await http.get(f"{stack.url('payment')}/v1/payments/{payment_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def payment_in(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    payment_id: str,
    status: str,
    timeout: float = PIPELINE_WAIT_S,
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        payment = await read_payment(http, stack, headers, payment_id)
        return payment if payment["status"] == status else None

    return await eventually(probe, timeout=timeout, interval=0.2)


async def fetch(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()
