"""Paying a dossier's fee through the VNPay gateway (the sandbox), end to end: the signed pay
URL, the IPN as VNPay sends it (duplicated, forged, short, lost), the mop-up job, expiry, and
what intake and metrics see of it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx

from payment_service.domain import vnpay
from services.stack import Stack
from shared.calendar import VN_TZ
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
from tests.support import HOAN_KIEM, Tokens, dossier_body, eventually, personal_id


def this_month() -> str:
    return dt.datetime.now(VN_TZ).strftime("%Y-%m")


async def online_payment(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> tuple[int, int]:
    r = await http.get(
        f"{stack.url('metrics')}/v1/indicators",
        params={"unit_code": HOAN_KIEM, "period": this_month()},
        headers=tokens.province_officer(),
    )
    assert r.status_code == 200, r.text
    rate = r.json()["rates"]["online_payment_rate"]
    return rate["numerator"], rate["denominator"]


async def paid_dossier_payment(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A received dossier and a pending VNPay payment of its fee, its pay page opened."""
    desk = receptionist(tokens)
    dossier = await received_dossier(http, stack, tokens)
    request = await open_request(http, stack, desk, dossier["id"])
    return dossier, await start_vnpay(http, stack, desk, request["id"])


async def outbox_types(database_url: str, dossier_id: str) -> list[str]:
    rows = await fetch(
        database_url,
        "SELECT event_type FROM payment.outbox WHERE key = $1 ORDER BY id",
        dossier_id,
    )
    return [r["event_type"] for r in rows]


SUCCEEDED = "vn.motcua.payment.succeeded.v1"


async def test_fee_paid_through_the_gateway_settles_the_request_and_numbers_a_receipt(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    before = await online_payment(http, stack, tokens)
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
        await http.get(f"{stack.url('payment')}/v1/payment-requests/{request['id']}", headers=desk)
    ).json()
    assert (closed["status"], closed["paid_vnd"]) == ("paid", 20000)

    async def intake_shows_paid() -> dict[str, Any] | None:
        view = (
            await http.get(f"{stack.url('intake')}/v1/dossiers/{dossier['code']}", headers=desk)
        ).json()
        return view if view["payments"]["paid_vnd"] == 20000 else None

    view = await eventually(intake_shows_paid, interval=0.2)
    assert view["payments"]["owed_vnd"] == 0
    events = await fetch(
        database_url,
        "SELECT event_type FROM payment.outbox WHERE key = $1 ORDER BY id",
        dossier["id"],
    )
    types = [e["event_type"] for e in events]
    assert types.count("vn.motcua.payment.succeeded.v1") == 1
    assert "vn.motcua.receipt.issued.v1" in types

    # Metrics counts the fee as paid online, from the real payment.succeeded event: the
    # dossier's fact carries the instant, and the ratio moved with it in the same transaction.
    async def counted() -> list[Any] | None:
        rows = await fetch(
            database_url,
            "SELECT fee_paid_online_at FROM metrics.dossier_facts WHERE dossier_id = $1"
            " AND fee_paid_online_at IS NOT NULL",
            dossier["id"],
        )
        return rows or None

    await eventually(counted, interval=0.3)
    numerator, denominator = await online_payment(http, stack, tokens)
    assert numerator >= before[0] + 1 and denominator >= before[1] + 1
    assert numerator <= denominator


async def test_fifty_identical_ipns_give_one_success_and_forty_nine_already_confirmed(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    paid = await gateway_pays(http, stack, payment["reference"], ipn={"duplicates": 50})
    codes = sorted(d["answer"]["RspCode"] for d in paid["ipn_deliveries"])
    assert codes == ["00"] + ["02"] * 49
    assert (await outbox_types(database_url, dossier["id"])).count(SUCCEEDED) == 1
    receipts = await fetch(
        database_url, "SELECT number FROM payment.receipts WHERE payment_id = $1", payment["id"]
    )
    assert len(receipts) == 1
    recorded = await fetch(
        database_url,
        "SELECT answer->>'RspCode' AS code FROM payment.callbacks"
        " WHERE reference = $1 AND source = 'vnpay_ipn'",
        payment["reference"],
    )
    assert sorted(r["code"] for r in recorded) == codes


async def test_a_tampered_ipn_answers_97_and_changes_nothing_but_is_recorded(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    paid = await gateway_pays(http, stack, payment["reference"], ipn={"tamper": True, "retries": 0})
    assert [d["answer"]["RspCode"] for d in paid["ipn_deliveries"]] == ["97"]
    after = await read_payment(http, stack, desk, payment["id"])
    assert (after["status"], after["version"]) == ("pending", payment["version"])
    assert SUCCEEDED not in await outbox_types(database_url, dossier["id"])
    recorded = await fetch(
        database_url,
        "SELECT signature_valid, outcome FROM payment.callbacks"
        " WHERE reference = $1 AND source = 'vnpay_ipn'",
        payment["reference"],
    )
    assert [(r["signature_valid"], r["outcome"]) for r in recorded] == [
        (False, "invalid_signature")
    ]


async def test_an_ipn_one_dong_short_answers_04_and_lands_in_exceptions(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    paid = await gateway_pays(http, stack, payment["reference"], amount_vnd=19999)
    assert paid["ipn_deliveries"][0]["answer"]["RspCode"] == "04"
    after = await read_payment(http, stack, desk, payment["id"])
    assert (after["status"], after["received_vnd"]) == ("amount_mismatch", 19999)
    assert SUCCEEDED not in await outbox_types(database_url, dossier["id"])
    items = await fetch(
        database_url,
        "SELECT kind, expected_vnd, received_vnd FROM payment.exceptions WHERE payment_id = $1",
        payment["id"],
    )
    assert [(i["kind"], i["expected_vnd"], i["received_vnd"]) for i in items] == [
        ("amount_mismatch", 20000, 19999)
    ]


async def test_a_lost_ipn_is_settled_by_the_mop_up_job_instead_of_expiring(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    paid = await gateway_pays(http, stack, payment["reference"], ipn={"drop": True})
    assert paid["ipn_deliveries"] == []
    # Our expiry passes too: the job must ask the gateway before it may expire anything.
    await fetch(
        database_url,
        "UPDATE payment.payments SET expires_at = now() - interval '1 second' WHERE id = $1",
        payment["id"],
    )
    settled = await payment_in(http, stack, desk, payment["id"], "succeeded")
    assert settled["gateway_txn_no"] == paid["transaction_no"]
    assert [h["actor"] for h in settled["history"]][-1] == "mopup"
    assert (await outbox_types(database_url, dossier["id"])).count(SUCCEEDED) == 1


async def test_money_taken_after_expiry_ends_succeeded_late_never_expired(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    await fetch(
        database_url,
        "UPDATE payment.payments SET expires_at = now() - interval '1 second',"
        " next_check_at = now() WHERE id = $1",
        payment["id"],
    )
    # The gateway says "not completed": only then does the job expire it.
    expired = await payment_in(http, stack, desk, payment["id"], "expired")
    assert expired["paid_at"] is None
    paid = await gateway_pays(http, stack, payment["reference"])
    assert paid["ipn_deliveries"][0]["answer"]["RspCode"] == "00"
    late = await read_payment(http, stack, desk, payment["id"])
    assert late["status"] == "succeeded_late" and late["receipt_id"]
    assert [h["to_status"] for h in late["history"]][-2:] == ["expired", "succeeded_late"]
    assert (await outbox_types(database_url, dossier["id"])).count(SUCCEEDED) == 1


async def test_killing_the_payment_service_mid_ipn_neither_doubles_nor_loses_the_payment(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    deliveries = asyncio.create_task(
        gateway_pays(http, stack, payment["reference"], ipn={"duplicates": 20})
    )
    await asyncio.sleep(0.05)
    await asyncio.to_thread(stack.kill, "payment")
    await asyncio.to_thread(stack.start, ["payment"])
    await deliveries
    # The gateway keeps calling until it hears 00 or 02, and the mop-up asks it too.
    settled = await payment_in(http, stack, desk, payment["id"], "succeeded", timeout=60)
    assert settled["receipt_id"]
    assert (await outbox_types(database_url, dossier["id"])).count(SUCCEEDED) == 1
    receipts = await fetch(
        database_url,
        "SELECT count(*) AS n FROM payment.receipts WHERE payment_id = $1",
        payment["id"],
    )
    assert receipts[0]["n"] == 1


async def test_bad_input_gets_a_problem_never_a_500(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    desk = receptionist(tokens)
    base = stack.url("payment")
    cases = [
        ("POST", "/v1/payments", {"request_id": "nope", "method": "vnpay"}, 422),
        ("POST", "/v1/payments", {"request_id": str(uuid.uuid4()), "method": "cash"}, 422),
        ("POST", "/v1/payments", {"request_id": str(uuid.uuid4()), "method": "vnpay"}, 404),
        ("GET", "/v1/payments/not-a-uuid", None, 422),
        ("GET", "/v1/payments?cursor=%%%", None, 422),
        ("GET", "/v1/payments?limit=0", None, 422),
    ]
    for method, path, body, status in cases:
        r = await http.request(method, base + path, json=body, headers=desk)
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["title_vi"]
    anonymous = await http.get(f"{base}/v1/payments")
    assert anonymous.status_code == 401
    # The IPN answers in VNPay's words whatever it is sent.
    junk = await http.get(f"{base}/v1/gateways/vnpay/ipn", params={"vnp_Amount": "x" * 5000})
    assert junk.status_code == 200 and junk.json()["RspCode"] == "97"


async def test_other_provinces_and_other_applicants_see_nothing(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    _, payment = await paid_dossier_payment(http, stack, tokens)
    base = stack.url("payment")
    nghe_an = tokens.bearer("cb.taichinh.40", ["finance"], "40", "40")
    stranger = tokens.bearer("001099000111", ["applicant"])
    for who in (nghe_an, stranger):
        r = await http.get(f"{base}/v1/payments/{payment['id']}", headers=who)
        assert r.status_code == 404
        listed = await http.get(f"{base}/v1/payments", headers=who)
        assert payment["id"] not in [p["id"] for p in listed.json()["items"]]


async def test_an_applicant_sees_and_pays_only_their_own_dossier_s_fee(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    body = dossier_body(channel="online")
    citizen = tokens.bearer(body["applicant"]["id_number"], ["applicant"])
    r = await http.post(f"{stack.url('intake')}/v1/dossiers", json=body, headers=citizen)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    received = await http.post(
        f"{stack.url('intake')}/v1/dossiers/{code}/receive",
        headers={**receptionist(tokens), "If-Match": r.headers["ETag"]},
    )
    assert received.status_code == 200, received.text
    request = await open_request(http, stack, citizen, r.json()["id"])
    assert request["amount_vnd"] == 10000  # the online fee of the procedure

    payment = await start_vnpay(http, stack, citizen, request["id"])
    again = await http.post(
        f"{stack.url('payment')}/v1/payments",
        json={"request_id": request["id"], "method": "vnpay"},
        headers=citizen,
    )
    # A second click while the first payment is still payable gets the same payment.
    assert again.json()["id"] == payment["id"]
    await gateway_pays(http, stack, payment["reference"])
    mine = await http.get(f"{stack.url('payment')}/v1/payments", headers=citizen)
    assert [(p["id"], p["status"]) for p in mine.json()["items"]] == [(payment["id"], "succeeded")]
    someone_else = tokens.bearer(personal_id(), ["applicant"])
    hidden = await http.get(
        f"{stack.url('payment')}/v1/payment-requests/{request['id']}", headers=someone_else
    )
    assert hidden.status_code == 404


async def test_the_browser_return_shows_the_status_and_never_changes_it(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    desk = receptionist(tokens)
    _, payment = await paid_dossier_payment(http, stack, tokens)
    # A forged "success" return: signed with a wrong secret.
    forged = {
        "vnp_TmnCode": stack.sandbox_secrets["tmn_code"],
        "vnp_TxnRef": payment["reference"],
        "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00",
        "vnp_Amount": "2000000",
    }
    forged["vnp_SecureHash"] = vnpay.sign("not-the-secret", vnpay.canonical_query(forged))
    shown = await http.get(f"{stack.url('payment')}/v1/gateways/vnpay/return", params=forged)
    assert shown.status_code == 200
    assert shown.json()["signature_valid"] is False and shown.json()["status"] is None
    genuine = dict(forged)
    genuine["vnp_SecureHash"] = vnpay.sign(
        stack.sandbox_secrets["hash_secret"], vnpay.canonical_query(forged)
    )
    shown = await http.get(f"{stack.url('payment')}/v1/gateways/vnpay/return", params=genuine)
    assert shown.json()["signature_valid"] is True and shown.json()["status"] == "pending"
    assert (await read_payment(http, stack, desk, payment["id"]))["status"] == "pending"


async def test_a_refund_left_submitted_by_a_crash_is_sent_by_the_mop_up_once(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens)
    dossier, payment = await paid_dossier_payment(http, stack, tokens)
    await gateway_pays(http, stack, payment["reference"])
    await payment_in(http, stack, desk, payment["id"], "succeeded")
    # What a crash between the refund's two transactions leaves: the refund submitted and its
    # amount reserved on the payment, nothing sent to the gateway.
    await fetch(
        database_url,
        "WITH r AS (INSERT INTO payment.refunds (id, payment_id, unit_path, amount_vnd, reason,"
        " status, request_id, requested_by, created_at) VALUES (gen_random_uuid(), $1,"
        " '01.00070', 5000, 'Hoàn một phần', 'submitted', md5(random()::text), 'cb.taichinh',"
        " now() - interval '1 minute') RETURNING payment_id)"
        " UPDATE payment.payments SET status = 'refund_pending', refund_pending_vnd = 5000,"
        " version = version + 1 WHERE id IN (SELECT payment_id FROM r)",
        payment["id"],
    )
    refunded = await payment_in(http, stack, desk, payment["id"], "partially_refunded")
    assert (refunded["refunded_vnd"], refunded["refund_pending_vnd"]) == (5000, 0)
    assert refunded["refundable_vnd"] == 15000
    sent = await fetch(
        database_url,
        "SELECT outcome FROM payment.callbacks WHERE payment_id = $1 AND source = 'vnpay_refund'",
        payment["id"],
    )
    assert [r["outcome"] for r in sent] == ["00"]
    assert (await outbox_types(database_url, dossier["id"])).count(
        "vn.motcua.payment.refunded.v1"
    ) == 1
