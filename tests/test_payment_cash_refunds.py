"""Money at the desk and money given back, over HTTP against the real stack: cash and paid on
behalf with the receipt issued at once, a mistaken collection voided by a second officer, the
daily cash close, receipt numbers under 100 parallel collections, and refunds (parallel,
stale, full, replayed, approved from the system's proposal)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson

from services.stack import Stack
from tests.payment_support import (
    fetch,
    finance,
    gateway_pays,
    open_request,
    read_payment,
    receptionist,
    start_vnpay,
)
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body, eventually, personal_id

PROBLEM = "application/problem+json"
# Wards of Hà Nội no other test uses, so their receipt numbers move only under these tests:
# Xã Hồng Sơn for voiding, Xã Hương Sơn for the 100 parallel collections.
VOID_WARD = "10465"
RANGE_WARD = "10489"


def officer(tokens: Tokens, role: str, unit: str = HOAN_KIEM) -> dict[str, str]:
    """A token for an officer of ``unit`` no other test is: desk closes are per officer."""
    return tokens.bearer(f"cb.{role}.{uuid.uuid4().hex[:8]}", [role], unit, f"{HANOI}.{unit}")


async def desk_dossier(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, unit: str = HOAN_KIEM
) -> tuple[dict[str, Any], str]:
    """A dossier received at ``unit``'s desk (fee 20,000 VND) and its applicant's ID number."""
    body = dossier_body(unit_code=unit)
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        json=body,
        headers=receptionist(tokens, unit, f"{HANOI}.{unit}"),
    )
    assert r.status_code == 201, r.text
    return r.json(), body["applicant"]["id_number"]


async def owed_request(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, unit: str = HOAN_KIEM
) -> tuple[dict[str, Any], dict[str, Any], str]:
    dossier, applicant_id = await desk_dossier(http, stack, tokens, unit)
    request = await open_request(
        http, stack, receptionist(tokens, unit, f"{HANOI}.{unit}"), dossier["id"]
    )
    return dossier, request, applicant_id


async def collect(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    request_id: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await http.post(
        f"{stack.url('payment')}/v1/payment-requests/{request_id}/cash",
        json=body if body is not None else {"method": "cash", "amount_vnd": 20000},
        headers=headers,
    )


async def void(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    payment: dict[str, Any],
    if_match: str | None = None,
) -> httpx.Response:
    extra = {"If-Match": if_match} if if_match is not None else {}
    return await http.post(
        f"{stack.url('payment')}/v1/payments/{payment['id']}/void",
        json={"reason": "Thu nhầm: người nộp đã nộp qua cổng"},
        headers={**headers, **extra},
    )


async def refund(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    payment_id: str,
    amount: int,
    available: int,
    key: str | None = None,
) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return await http.post(
        f"{stack.url('payment')}/v1/payments/{payment_id}/refunds",
        json={
            "amount_vnd": amount,
            "reason": "Hoàn lệ phí thu thừa",
            "refund_amount_available_vnd": available,
        },
        headers={**headers, **extra},
    )


async def read_request(
    http: httpx.AsyncClient, stack: Stack, headers: dict[str, str], request_id: str
) -> dict[str, Any]:
    r = await http.get(f"{stack.url('payment')}/v1/payment-requests/{request_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def events_of(database_url: str, dossier_id: str, event_type: str) -> list[dict[str, Any]]:
    rows = await fetch(
        database_url,
        "SELECT payload FROM payment.outbox WHERE key = $1 AND event_type = $2 ORDER BY id",
        dossier_id,
        event_type,
    )
    return [orjson.loads(r["payload"]) for r in rows]


async def paid_by_gateway(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> dict[str, Any]:
    """A fee of 20,000 VND paid through the sandbox's VNPay gateway."""
    desk = receptionist(tokens)
    _, request, _ = await owed_request(http, stack, tokens)
    payment = await start_vnpay(http, stack, desk, request["id"])
    await gateway_pays(http, stack, payment["reference"])
    paid = await read_payment(http, stack, desk, payment["id"])
    assert paid["status"] == "succeeded" and paid["refundable_vnd"] == 20000
    return paid


# --------------------------------------------------------------------------- cash at the desk


async def test_cash_at_the_desk_succeeds_at_once_with_its_receipt(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = officer(tokens, "receptionist")
    dossier, request, _ = await owed_request(http, stack, tokens)

    r = await collect(http, stack, desk, request["id"])

    assert r.status_code == 201, r.text
    paid = r.json()
    assert (paid["method"], paid["status"], paid["online"]) == ("cash", "succeeded", False)
    assert paid["amount_vnd"] == 20000 and paid["receipt_id"] == paid["receipt"]["id"]
    assert paid["receipt"]["status"] == "issued" and paid["receipt"]["amount_vnd"] == 20000
    assert r.headers["ETag"] == f'"{paid["version"]}"'
    assert [h["to_status"] for h in paid["history"]] == ["created", "succeeded"]
    assert (await read_request(http, stack, desk, request["id"]))["status"] == "paid"
    succeeded = await events_of(database_url, dossier["id"], "vn.motcua.payment.succeeded.v1")
    assert [(e["method"], e["online"]) for e in succeeded] == [("cash", False)]


async def test_cash_retried_with_its_idempotency_key_is_collected_once(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    desk = {**officer(tokens, "receptionist"), "Idempotency-Key": f"cash-{uuid.uuid4()}"}
    _, request, _ = await owed_request(http, stack, tokens)

    first = await collect(http, stack, desk, request["id"])
    again = await collect(http, stack, desk, request["id"])
    other = await collect(
        http, stack, desk, request["id"], {"method": "cash", "amount_vnd": 20000, "reason": "x" * 5}
    )

    assert first.status_code == again.status_code == 201, first.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["receipt"]["number"] == first.json()["receipt"]["number"]
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")


async def test_amount_other_than_owed_is_refused(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    desk = officer(tokens, "receptionist")
    _, request, _ = await owed_request(http, stack, tokens)

    r = await collect(http, stack, desk, request["id"], {"method": "cash", "amount_vnd": 19000})

    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("/payment-amount-mismatch")
    assert (await read_request(http, stack, desk, request["id"]))["status"] == "open"


async def test_paid_on_behalf_by_the_applicant_is_refused(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = officer(tokens, "receptionist")
    _, request, applicant_id = await owed_request(http, stack, tokens)

    r = await collect(
        http,
        stack,
        desk,
        request["id"],
        {
            "method": "on_behalf",
            "amount_vnd": 20000,
            "payer": {"name": "Nguyễn Thị Lan", "id_number": applicant_id},
            "reason": "Cán bộ nộp thay",
        },
    )

    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("/payer-is-applicant") and r.json()["title_vi"]
    stored = await fetch(
        database_url,
        "SELECT id FROM payment.payments WHERE request_id = $1",
        uuid.UUID(request["id"]),
    )
    assert stored == []


async def test_paid_on_behalf_shows_the_payer_masked_and_never_the_id_number(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = officer(tokens, "receptionist")
    _, request, _ = await owed_request(http, stack, tokens)
    payer_id = personal_id()

    r = await collect(
        http,
        stack,
        desk,
        request["id"],
        {
            "method": "on_behalf",
            "amount_vnd": 20000,
            "payer": {"name": "Trần Văn Bình", "id_number": payer_id, "relation": "con"},
            "reason": "Người nộp hồ sơ cao tuổi, con nộp thay",
            "paid_via": "transfer",
        },
    )

    assert r.status_code == 201, r.text
    paid = r.json()
    masked = payer_id[:3] + "******" + payer_id[-3:]
    assert paid["payer"] == {"name": "Trần Văn Bình", "id_masked": masked, "relation": "con"}
    # Paid on behalf by transfer did not cross the counter: it counts as online.
    assert (paid["method"], paid["online"], paid["status"]) == ("on_behalf", True, "succeeded")
    assert paid["receipt"]["content"]["payer_name"] == "Trần Văn Bình"
    assert paid["receipt"]["content"]["payer_id_masked"] == masked
    base = stack.url("payment")
    answers = [
        r.text,
        (await http.get(f"{base}/v1/payments/{paid['id']}", headers=desk)).text,
        (await http.get(f"{base}/v1/receipts/{paid['receipt_id']}", headers=desk)).text,
    ]
    assert all(payer_id not in text for text in answers)
    rows = await fetch(
        database_url,
        "SELECT payer::text AS payer FROM payment.payments WHERE id = $1",
        uuid.UUID(paid["id"]),
    )
    assert payer_id not in rows[0]["payer"] and masked in rows[0]["payer"]


async def test_bad_cash_bodies_are_problems(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    desk = officer(tokens, "receptionist")
    _, request, _ = await owed_request(http, stack, tokens)
    payer = {"name": "Trần Văn Bình", "id_number": personal_id()}
    bad = [
        {"method": "cash", "amount_vnd": -20000},
        {"method": "cash", "amount_vnd": "20000"},
        {"method": "cash", "amount_vnd": 20000.5},
        {"method": "cash"},
        {"method": "cheque", "amount_vnd": 20000},
        {"method": "on_behalf", "amount_vnd": 20000, "reason": "nộp thay"},
        {"method": "on_behalf", "amount_vnd": 20000, "payer": payer},
        {
            "method": "on_behalf",
            "amount_vnd": 20000,
            "payer": {"name": "Trần Văn Bình", "id_number": "0010850123"},
            "reason": "nộp thay",
        },
        {"method": "cash", "amount_vnd": 20000, "paid_via": "card"},
        {"method": "cash", "amount_vnd": 20000, "extra": True},
    ]
    for body in bad:
        r = await collect(http, stack, desk, request["id"], body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    applicant = tokens.bearer(personal_id(), ["applicant"])
    assert (await collect(http, stack, applicant, request["id"])).status_code == 403
    assert (await read_request(http, stack, desk, request["id"]))["status"] == "open"


# --------------------------------------------------------------------------- void


async def test_void_needs_a_second_officer_cancels_the_receipt_and_reopens_the_request(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    first = officer(tokens, "finance", VOID_WARD)
    second = officer(tokens, "finance", VOID_WARD)
    dossier, request, _ = await owed_request(http, stack, tokens, VOID_WARD)
    collected = (await collect(http, stack, first, request["id"])).json()
    number = collected["receipt"]["number"]
    etag = f'"{collected["version"]}"'

    assert (await void(http, stack, first, collected, etag)).status_code == 403
    assert (await void(http, stack, second, collected)).status_code == 428
    assert (await void(http, stack, second, collected, '"99"')).status_code == 412
    desk = receptionist(tokens, VOID_WARD, f"{HANOI}.{VOID_WARD}")
    assert (await void(http, stack, desk, collected, etag)).status_code == 403
    r = await void(http, stack, second, collected, etag)

    assert r.status_code == 200, r.text
    voided = r.json()
    assert voided["status"] == "voided" and voided["receipt"]["status"] == "cancelled"
    assert r.headers["ETag"] == f'"{voided["version"]}"'
    check = await http.get(f"{stack.url('payment')}/v1/receipts/{voided['receipt_id']}/verify")
    assert check.json()["valid"] is False
    reopened = await read_request(http, stack, first, request["id"])
    assert (reopened["status"], reopened["paid_vnd"], reopened["closed_at"]) == ("open", 0, None)
    assert reopened["version"] == request["version"] + 2
    events = await events_of(database_url, dossier["id"], "vn.motcua.payment.voided.v1")
    assert [(e["voided_by"], e["status"]) for e in events] == [
        (voided["history"][-1]["actor"], "voided")
    ]
    again = await void(http, stack, second, voided, r.headers["ETag"])
    assert again.status_code == 409

    # The cancelled number is never issued again: the next collection takes the next one.
    recollected = await collect(http, stack, first, request["id"])
    assert recollected.status_code == 201, recollected.text
    assert recollected.json()["receipt"]["number"] == number + 1


async def test_an_online_payment_is_never_voided(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    paid = await paid_by_gateway(http, stack, tokens)
    r = await void(http, stack, finance(tokens), paid, f'"{paid["version"]}"')
    assert r.status_code == 409 and r.json()["type"].endswith("/payment-not-voidable")


# --------------------------------------------------------------------------- cash close


async def test_cash_close_counts_the_day_once_and_freezes_it(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    desk = officer(tokens, "receptionist")
    checker = officer(tokens, "finance")
    kept = await collect(http, stack, desk, (await owed_request(http, stack, tokens))[1]["id"])
    mistaken = await collect(http, stack, desk, (await owed_request(http, stack, tokens))[1]["id"])
    assert kept.status_code == mistaken.status_code == 201
    wrong = mistaken.json()
    assert (await void(http, stack, checker, wrong, f'"{wrong["version"]}"')).status_code == 200
    base = stack.url("payment")

    r = await http.post(f"{base}/v1/cash-closes", json={}, headers=desk)

    assert r.status_code == 201, r.text
    closed = r.json()
    assert (closed["count"], closed["total_vnd"], closed["voided_count"]) == (1, 20000, 1)
    listed = {p["id"]: p for p in closed["payments"]}
    assert listed[kept.json()["id"]]["counted"] is True
    assert listed[kept.json()["id"]]["receipt_number"] == kept.json()["receipt"]["number_text"]
    assert listed[wrong["id"]]["counted"] is False and listed[wrong["id"]]["status"] == "voided"

    second = await http.post(f"{base}/v1/cash-closes", json={"day": closed["day"]}, headers=desk)
    assert second.status_code == 409 and second.json()["type"].endswith("/cash-close-exists")
    late = await collect(http, stack, desk, (await owed_request(http, stack, tokens))[1]["id"])
    assert late.status_code == 409 and late.json()["type"].endswith("/cash-desk-closed")
    frozen = await void(http, stack, checker, kept.json(), f'"{kept.json()["version"]}"')
    assert frozen.status_code == 409 and frozen.json()["type"].endswith("/cash-desk-closed")

    own = (await http.get(f"{base}/v1/cash-closes", headers=desk)).json()["items"]
    assert [c["id"] for c in own] == [closed["id"]]
    officer_sub = closed["officer"]
    seen = await http.get(
        f"{base}/v1/cash-closes",
        params={"officer": officer_sub, "day": closed["day"]},
        headers=checker,
    )
    assert [c["total_vnd"] for c in seen.json()["items"]] == [20000]
    other_desk = await http.get(
        f"{base}/v1/cash-closes",
        params={"officer": officer_sub},
        headers=officer(tokens, "receptionist"),
    )
    assert other_desk.status_code == 403
    elsewhere = officer(tokens, "finance", VOID_WARD)
    far = await http.get(
        f"{base}/v1/cash-closes", params={"officer": officer_sub}, headers=elsewhere
    )
    assert far.json()["items"] == []
    future = await http.post(f"{base}/v1/cash-closes", json={"day": "2999-01-01"}, headers=desk)
    assert future.status_code == 422


# --------------------------------------------------------------------------- receipt range


async def test_100_parallel_collections_take_exactly_the_registered_range(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    path = f"{HANOI}.{RANGE_WARD}"
    base = stack.url("payment")
    registered = await http.post(
        f"{base}/v1/receipt-ranges",
        json={
            "agency_code": f"motcua-{RANGE_WARD}",
            "form_code": "01BLP0-001",
            "symbol": f"HS-{RANGE_WARD}",
            "first_number": 501,
            "last_number": 600,
        },
        headers=finance(tokens, RANGE_WARD, path),
    )
    assert registered.status_code == 201, registered.text
    first = registered.json()["first_number"]

    gate = asyncio.Semaphore(6)

    async def owed() -> dict[str, Any]:
        async with gate:
            return (await owed_request(http, stack, tokens, RANGE_WARD))[1]

    requests = await asyncio.gather(*(owed() for _ in range(101)))
    desk = officer(tokens, "receptionist", RANGE_WARD)
    async with httpx.AsyncClient(timeout=60) as burst:
        answers = await asyncio.gather(
            *(collect(burst, stack, desk, r["id"]) for r in requests[:100])
        )

    assert [a.status_code for a in answers] == [201] * 100, [a.text for a in answers][:3]
    numbers = sorted(a.json()["receipt"]["number"] for a in answers)
    assert numbers == list(range(first, first + 100))
    assert {a.json()["receipt"]["symbol"] for a in answers} == {f"HS-{RANGE_WARD}"}

    last = requests[100]
    exhausted = await collect(http, stack, desk, last["id"])
    assert exhausted.status_code == 409
    assert exhausted.headers["content-type"].startswith(PROBLEM)
    assert exhausted.json()["type"].endswith("/receipt-range-exhausted")
    stored = await fetch(
        database_url,
        "SELECT id FROM payment.payments WHERE request_id = $1",
        uuid.UUID(last["id"]),
    )
    assert stored == []
    assert (await read_request(http, stack, desk, last["id"]))["status"] == "open"


# --------------------------------------------------------------------------- refunds


async def test_two_parallel_60_percent_refunds_give_back_one(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    paid = await paid_by_gateway(http, stack, tokens)
    money = finance(tokens)

    answers = await asyncio.gather(
        refund(http, stack, money, paid["id"], 12000, 20000),
        refund(http, stack, money, paid["id"], 12000, 20000),
    )

    codes = sorted(a.status_code for a in answers)
    assert codes[0] == 201 and codes[1] in (409, 412), [a.text for a in answers]
    done = next(a.json() for a in answers if a.status_code == 201)
    assert (done["status"], done["gateway_code"]) == ("succeeded", "00")
    assert (done["refunded_vnd"], done["refundable_vnd"]) == (12000, 8000)
    after = await read_payment(http, stack, money, paid["id"])
    assert (after["status"], after["refunded_vnd"], after["refundable_vnd"]) == (
        "partially_refunded",
        12000,
        8000,
    )
    listed = await http.get(
        f"{stack.url('payment')}/v1/refunds", params={"payment_id": paid["id"]}, headers=money
    )
    assert [(i["status"], i["amount_vnd"]) for i in listed.json()["items"]] == [
        ("succeeded", 12000)
    ]


async def test_refund_with_a_stale_available_amount_gets_412(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    paid = await paid_by_gateway(http, stack, tokens)
    money = finance(tokens)
    assert (await refund(http, stack, money, paid["id"], 5000, 20000)).status_code == 201

    stale = await refund(http, stack, money, paid["id"], 5000, 20000)

    assert stale.status_code == 412 and stale.headers["content-type"].startswith(PROBLEM)
    assert stale.json()["type"].endswith("/refund-amount-available-changed")
    too_much = await refund(http, stack, money, paid["id"], 16000, 15000)
    assert too_much.status_code == 422
    assert (await read_payment(http, stack, money, paid["id"]))["refundable_vnd"] == 15000


async def test_full_refund_leaves_the_payment_refunded(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    paid = await paid_by_gateway(http, stack, tokens)
    money = finance(tokens)

    r = await refund(http, stack, money, paid["id"], 20000, 20000)

    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/refunds/{r.json()['id']}"
    assert (r.json()["status"], r.json()["payment_status"]) == ("succeeded", "refunded")
    after = await read_payment(http, stack, money, paid["id"])
    assert (after["status"], after["refunded_vnd"], after["refundable_vnd"]) == (
        "refunded",
        20000,
        0,
    )
    again = await refund(http, stack, money, paid["id"], 1, 0)
    assert again.status_code == 409
    read = await http.get(f"{stack.url('payment')}/v1/refunds/{r.json()['id']}", headers=money)
    assert read.json()["status"] == "succeeded"
    stranger = finance(tokens, "00004", f"{HANOI}.00004")
    hidden = await http.get(f"{stack.url('payment')}/v1/refunds/{r.json()['id']}", headers=stranger)
    assert hidden.status_code == 404


async def test_idempotency_key_replays_the_refund_and_rejects_another_body(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    _, request, _ = await owed_request(http, stack, tokens)
    paid = (await collect(http, stack, officer(tokens, "receptionist"), request["id"])).json()
    money = finance(tokens)
    key = f"refund-{uuid.uuid4()}"

    first = await refund(http, stack, money, paid["id"], 5000, 20000, key)
    replay = await refund(http, stack, money, paid["id"], 5000, 20000, key)
    other = await refund(http, stack, money, paid["id"], 6000, 20000, key)

    assert first.status_code == replay.status_code == 201, first.text
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["status"] == first.json()["status"] == "succeeded"
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    rows = await fetch(
        database_url,
        "SELECT amount_vnd FROM payment.refunds WHERE payment_id = $1",
        uuid.UUID(paid["id"]),
    )
    assert [r["amount_vnd"] for r in rows] == [5000]


async def test_bad_refund_bodies_are_problems(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    _, request, _ = await owed_request(http, stack, tokens)
    paid = (await collect(http, stack, officer(tokens, "receptionist"), request["id"])).json()
    money = finance(tokens)
    url = f"{stack.url('payment')}/v1/payments/{paid['id']}/refunds"
    good = {"amount_vnd": 1000, "reason": "Hoàn tiền", "refund_amount_available_vnd": 20000}
    bad = [
        {**good, "amount_vnd": -1000},
        {**good, "amount_vnd": 0},
        {**good, "amount_vnd": "1000"},
        {**good, "refund_amount_available_vnd": -1},
        {k: v for k, v in good.items() if k != "refund_amount_available_vnd"},
        {k: v for k, v in good.items() if k != "reason"},
        {**good, "reason": 42},
        [good],
    ]
    for body in bad:
        r = await http.post(url, json=body, headers=money)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    not_json = await http.post(
        url, content=b"{", headers={**money, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.headers["content-type"].startswith(PROBLEM)
    desk = await http.post(url, json=good, headers=receptionist(tokens))
    assert desk.status_code == 403 and desk.headers["content-type"].startswith(PROBLEM)
    missing = await http.post(
        f"{stack.url('payment')}/v1/payments/{uuid.uuid4()}/refunds", json=good, headers=money
    )
    assert missing.status_code == 404
    status = await http.get(
        f"{stack.url('payment')}/v1/refunds", params={"status": "lost"}, headers=money
    )
    assert status.status_code == 422
    assert (await read_payment(http, stack, money, paid["id"]))["refunded_vnd"] == 0


async def test_refund_proposed_for_a_withdrawn_dossier_is_approved_by_finance(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    dossier, request, _ = await owed_request(http, stack, tokens)
    desk = receptionist(tokens)
    paid = (await collect(http, stack, officer(tokens, "receptionist"), request["id"])).json()
    intake = f"{stack.url('intake')}/v1/dossiers/{dossier['code']}"

    async def withdraw() -> httpx.Response:
        for _ in range(20):
            etag = (await http.get(intake, headers=desk)).headers["ETag"]
            r = await http.post(f"{intake}/withdraw", headers={**desk, "If-Match": etag})
            if r.status_code != 412:  # workflow may move the dossier meanwhile
                return r
        raise AssertionError("dossier kept changing")

    assert (await withdraw()).status_code == 200
    money = finance(tokens)
    base = stack.url("payment")

    async def proposed() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{base}/v1/refunds",
            params={"status": "proposed", "payment_id": paid["id"]},
            headers=money,
        )
        return r.json()["items"] or None

    [proposal] = await eventually(proposed, interval=0.2)
    assert (proposal["amount_vnd"], proposal["proposed_reason"]) == (20000, "withdrawn")
    stale = await http.post(
        f"{base}/v1/refunds/{proposal['id']}/approve",
        json={"refund_amount_available_vnd": 15000},
        headers=money,
    )
    assert stale.status_code == 412

    r = await http.post(
        f"{base}/v1/refunds/{proposal['id']}/approve",
        json={"refund_amount_available_vnd": 20000},
        headers=money,
    )

    assert r.status_code == 201, r.text
    assert (r.json()["id"], r.json()["status"]) == (proposal["id"], "succeeded")
    assert (await read_payment(http, stack, money, paid["id"]))["status"] == "refunded"
    twice = await http.post(
        f"{base}/v1/refunds/{proposal['id']}/approve",
        json={"refund_amount_available_vnd": 0},
        headers=money,
    )
    assert twice.status_code == 409
