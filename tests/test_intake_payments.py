"""Intake's dossier view and the public lookup show what payment says a dossier owes and paid,
whatever order payment's events arrive in, without moving the dossier's version (ETag)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from services.stack import Infrastructure, Stack
from shared.events import (
    Event,
    PaymentRequestClosed,
    PaymentRequested,
    PaymentSucceeded,
    ReceiptIssued,
    topics,
)
from shared.events.envelope import ce_headers, encode_data, wrap
from tests.support import Tokens, client_address, dossier_body, eventually


async def publish(bootstrap: str, namespace: str, events: list[Event]) -> None:
    """Publish as payment would: one message each, a fresh CloudEvents id each (a repeated event
    is payment announcing it again, not the broker redelivering it), keyed by the dossier."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event in events:
            env = wrap(event, source="/motcua/payment", subject=event.dossier_code)  # type: ignore[attr-defined]
            await producer.send_and_wait(
                namespace + topics.PAYMENTS,
                key=env.key.encode(),
                value=encode_data(event),
                headers=[(k, v.encode()) for k, v in ce_headers(env).items()],
            )
    finally:
        await producer.stop()


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def test_a_paid_fee_shows_in_the_dossier_and_the_lookup_without_a_new_etag(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, infra: Infrastructure, namespace: str
) -> None:
    officer = tokens.receptionist()
    base = f"{stack.url('intake')}/v1/dossiers"
    body = dossier_body()
    r = await http.post(base, json=body, headers=officer)
    assert r.status_code == 201, r.text
    dossier = r.json()
    assert (dossier["status"], dossier["fee_amount_vnd"]) == ("received", 20_000)
    assert dossier["payments"]["requests"] == []
    url = f"{base}/{dossier['code']}"

    # Workflow opening the case is a lifecycle step and moves the version; wait for it, so the
    # version compared below is one only payment's events could have moved.
    async def processing() -> httpx.Response | None:
        read = await http.get(url, headers=officer)
        return read if read.json()["status"] == "in_processing" else None

    before = await eventually(processing, interval=0.2)
    etag, version = before.headers["ETag"], before.json()["version"]

    common = {
        "dossier_id": dossier["id"],
        "dossier_code": dossier["code"],
        "unit_path": dossier["unit_path"],
    }
    request_id, payment_id = uuid.uuid4(), uuid.uuid4()
    number = random.randint(1_000, 9_999_999)
    paid_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    raised = PaymentRequested(
        **common,
        request_id=request_id,
        purpose="fee",
        agency_code="UBND-00070",
        amount_vnd=20_000,
        lines=[{"code": "1.004222-01", "kind": "charge", "name": "Lệ phí", "amount_vnd": 20_000}],
        requested_at=paid_at - dt.timedelta(minutes=5),
    )
    paid = PaymentSucceeded(
        **common,
        payment_id=payment_id,
        request_id=request_id,
        purpose="fee",
        amount_vnd=20_000,
        online=True,
        method="vnpay",
        paid_at=paid_at,
    )
    issued = ReceiptIssued(
        **common,
        receipt_id=uuid.uuid4(),
        payment_id=payment_id,
        form_code="01BLP0-001",
        symbol="BI-26T",
        number=number,
        amount_vnd=20_000,
        issued_at=paid_at + dt.timedelta(seconds=3),
    )
    settled = PaymentRequestClosed(
        **common,
        request_id=request_id,
        purpose="fee",
        status="paid",
        closed_at=paid_at + dt.timedelta(seconds=3),
    )
    # The worst order a fixed test can pick: the receipt before its payment, the closing before
    # the request, the receipt announced twice, the request last (the unit tests try every order).
    await publish(infra.bootstrap_servers, namespace, [issued, settled, paid, issued, raised])
    receipt_number = f"BI-26T {number:07d}"

    async def shown() -> dict[str, Any] | None:
        read = await http.get(url, headers=officer)
        mine = [
            q for q in read.json()["payments"]["requests"] if q["request_id"] == str(request_id)
        ]
        # The request's amount arrives last, so once it shows, every event before it was applied.
        if mine and mine[0]["amount_vnd"] == 20_000 and mine[0]["receipt_number"]:
            return {"response": read, "request": mine[0]}
        return None

    seen = await eventually(shown, interval=0.2)
    mine, view = seen["request"], seen["response"].json()
    assert (mine["paid_vnd"], mine["owed_vnd"], mine["refunded_vnd"]) == (20_000, 0, 0)
    assert (mine["status"], mine["purpose"]) == ("paid", "fee")
    assert (mine["method"], mine["online"], ts(mine["paid_at"])) == ("vnpay", True, paid_at)
    assert mine["receipt_number"] == receipt_number
    assert mine["purpose_label_vi"] and mine["status_label_vi"]
    # Payment raises its own request for the same dossier; the totals add up whatever it holds.
    totals = view["payments"]
    assert totals["paid_vnd"] == sum(q["paid_vnd"] for q in totals["requests"]) >= 20_000
    assert totals["owed_vnd"] == sum(q["owed_vnd"] for q in totals["requests"])

    # Paying is not a lifecycle step: the officer's If-Match stays good, the log has no new line.
    assert (seen["response"].headers["ETag"], view["version"]) == (etag, version)
    assert len(view["history"]) == len(before.json()["history"])

    r = await http.get(
        f"{stack.url('intake')}/v1/lookup/{dossier['code']}",
        headers={**client_address(), "X-Lookup-Verifier": body["applicant"]["id_number"][-4:]},
    )
    assert r.status_code == 200, r.text
    public = r.json()["payments"]
    assert (public["owed_vnd"], public["paid_vnd"]) == (totals["owed_vnd"], totals["paid_vnd"])
    (shown_publicly,) = [q for q in public["requests"] if q["receipt_number"] == receipt_number]
    assert shown_publicly["purpose"] == "fee" and shown_publicly["status"] == "paid"
    assert shown_publicly["amount_vnd"] == 20_000 and ts(shown_publicly["paid_at"]) == paid_at
    # Who paid, how, and through which agency's account stay out of the public answer.
    assert set(shown_publicly) == {
        "purpose",
        "purpose_label_vi",
        "amount_vnd",
        "status",
        "status_label_vi",
        "paid_at",
        "receipt_number",
    }
