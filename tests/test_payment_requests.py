"""What a dossier that ends without its result does to its money: a withdrawal cancels the open
request and its waiting payment; money that arrives anyway, or was paid before, is proposed for
refund to a finance officer."""

from __future__ import annotations

from typing import Any

import httpx

from services.stack import Stack
from tests.payment_support import (
    fetch,
    gateway_pays,
    open_request,
    payment_in,
    read_payment,
    received_dossier,
    receptionist,
    start_vnpay,
)
from tests.support import Tokens, eventually


async def withdraw(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, dossier: dict[str, Any]
) -> None:
    url = f"{stack.url('intake')}/v1/dossiers/{dossier['code']}"
    desk = receptionist(tokens)

    async def case_opened() -> httpx.Response | None:
        # Workflow's case opening moves the dossier (and its ETag) once; withdraw after it.
        r = await http.get(url, headers=desk)
        return r if r.json()["status"] == "in_processing" else None

    current = await eventually(case_opened, interval=0.2)
    r = await http.post(
        f"{url}/withdraw",
        headers={**desk, "If-Match": current.headers["ETag"]},
        json={"note": "Công dân xin rút hồ sơ"},
    )
    assert r.status_code == 200, r.text


async def proposed_refunds(database_url: str, payment_id: str) -> list[Any]:
    return await fetch(
        database_url,
        "SELECT amount_vnd, proposed_reason FROM payment.refunds"
        " WHERE payment_id = $1 AND status = 'proposed'",
        payment_id,
    )


async def test_withdrawal_cancels_the_request_and_money_arriving_later_is_proposed_for_refund(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier = await received_dossier(http, stack, tokens)
    request = await open_request(http, stack, desk, dossier["id"])
    payment = await start_vnpay(http, stack, desk, request["id"])
    await withdraw(http, stack, tokens, dossier)

    await payment_in(http, stack, desk, payment["id"], "cancelled")
    cancelled = (
        await http.get(f"{stack.url('payment')}/v1/payment-requests/{request['id']}", headers=desk)
    ).json()
    assert cancelled["status"] == "cancelled"

    # The citizen had the pay page open and pays all the same: the money is taken, so it is
    # recorded (late) with a receipt, and its refund proposed.
    paid = await gateway_pays(http, stack, payment["reference"])
    assert paid["ipn_deliveries"][0]["answer"]["RspCode"] == "00"
    late = await read_payment(http, stack, desk, payment["id"])
    assert late["status"] == "succeeded_late" and late["receipt_id"]
    assert [
        (r["amount_vnd"], r["proposed_reason"])
        for r in await proposed_refunds(database_url, payment["id"])
    ] == [(20000, "cancelled")]


async def test_a_paid_dossier_withdrawn_gets_its_fee_proposed_for_refund_once(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier = await received_dossier(http, stack, tokens)
    request = await open_request(http, stack, desk, dossier["id"])
    payment = await start_vnpay(http, stack, desk, request["id"])
    await gateway_pays(http, stack, payment["reference"])
    await withdraw(http, stack, tokens, dossier)

    async def proposed() -> list[Any] | None:
        return await proposed_refunds(database_url, payment["id"]) or None

    rows = await eventually(proposed, interval=0.2)
    assert [(r["amount_vnd"], r["proposed_reason"]) for r in rows] == [(20000, "withdrawn")]
    # A proposal moves no money.
    assert (await read_payment(http, stack, desk, payment["id"]))["status"] == "succeeded"
