"""Paying a dossier's fee through the VNPay gateway (the sandbox), end to end: the signed pay
URL, the IPN as VNPay sends it (duplicated, forged, short, lost), the mop-up job, expiry, and
what intake and metrics see of it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from services.stack import Stack
from tests.payment_support import (
    WARD_PATH,
    fetch,
    finance,
    gateway_pays,
    open_request,
    payment_in,
    read_payment,
    received_dossier,
    receptionist,
    start_vnpay,
)
from tests.support import HANOI, Tokens, eventually


async def test_fee_paid_through_the_gateway_settles_the_request_and_numbers_a_receipt(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier = await received_dossier(http, stack, tokens)
    request = await open_request(http, stack, desk, dossier["id"])
    assert request["amount_vnd"] == 20000 and request["agency_code"] == "motcua-00070"
    assert [line["amount_vnd"] for line in request["lines"]] == [20000]

    payment = await start_vnpay(http, stack, desk, request["id"])
    assert payment["status"] == "pending" and payment["amount_vnd"] == 20000
    assert "vnp_Amount=2000000" in payment["pay_url"]

    paid = await gateway_pays(http, stack, payment["reference"])
    assert [d["answer"]["RspCode"] for d in paid["ipn_deliveries"]] == ["00"]

    done = await read_payment(http, stack, desk, payment["id"])
    assert done["status"] == "succeeded" and done["receipt_id"]
    assert [h["to_status"] for h in done["history"]] == ["created", "pending", "succeeded"]
    receipt = (
        await http.get(f"{stack.url('payment')}/v1/receipts/{done['receipt_id']}", headers=desk)
    ).json()
    assert receipt["amount_vnd"] == 20000 and receipt["status"] == "issued"
    pdf = await http.get(
        f"{stack.url('payment')}/v1/receipts/{done['receipt_id']}",
        headers={**desk, "Accept": "application/pdf"},
    )
    assert pdf.content.startswith(b"%PDF")

    closed = (
        await http.get(
            f"{stack.url('payment')}/v1/payment-requests/{request['id']}", headers=desk
        )
    ).json()
    assert (closed["status"], closed["paid_vnd"]) == ("paid", 20000)

    async def intake_shows_paid() -> dict[str, Any] | None:
        view = (
            await http.get(f"{stack.url('intake')}/v1/dossiers/{dossier['code']}", headers=desk)
        ).json()
        return view if view["payments"]["paid_vnd"] == 20000 else None

    view = await eventually(intake_shows_paid, timeout=30, interval=0.2)
    assert view["payments"]["owed_vnd"] == 0
    events = await fetch(
        database_url,
        "SELECT event_type FROM payment.outbox WHERE key = $1 ORDER BY id",
        dossier["id"],
    )
    types = [e["event_type"] for e in events]
    assert types.count("vn.motcua.payment.succeeded.v1") == 1
    assert "vn.motcua.receipt.issued.v1" in types
