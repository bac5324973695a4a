"""Fees paid by VietQR transfer, learnt from the sandbox bank: the signed credit notice
(delivered three times, forged, malformed), the day's statement with exact, over-, under-paid,
unreferenced and repeated credits, and the exception queue finance works through.

Everything runs at one ward nobody else's tests use (Phường Đống Đa), and each statement test
on a day of its own, so a statement holds only what its test put there."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx

from services.stack import Stack
from tests.payment_support import (
    fetch,
    finance,
    gateway_pays,
    open_request,
    payment_in,
    received_dossier,
    receptionist,
    start_vnpay,
)
from tests.support import HANOI, NGHE_AN, Tokens, eventually

WARD = "00235"  # Phường Đống Đa, Hà Nội
WARD_PATH = f"{HANOI}.{WARD}"
VN = dt.timezone(dt.timedelta(hours=7))
PROBLEM = "application/problem+json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def ward_finance(tokens: Tokens) -> dict[str, str]:
    return finance(tokens, WARD, WARD_PATH)


def ops(tokens: Tokens) -> dict[str, str]:
    return tokens.bearer("ops.payment", ["ops"])


def txn_id(tag: str) -> str:
    return f"FT{tag}{secrets.token_hex(5).upper()}"


def statement_day(days_ago: int) -> dt.date:
    """A day of the past no other test writes credits on, so its statement is this test's."""
    return dt.datetime.now(VN).date() - dt.timedelta(days=days_ago)


async def transfer(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> dict[str, Any]:
    """A received dossier of the ward and a VietQR payment of its 20,000 VND fee."""
    desk = receptionist(tokens, WARD, WARD_PATH)
    dossier = await received_dossier(http, stack, tokens, unit=WARD, path=WARD_PATH)
    request = await open_request(http, stack, desk, dossier["id"])
    r = await http.post(
        f"{stack.url('payment')}/v1/payments",
        json={"request_id": request["id"], "method": "vietqr"},
        headers=desk,
    )
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "pending" and payment["qr"]["purpose"].startswith(
        payment["reference"]
    )
    return payment


async def bank_credits(
    http: httpx.AsyncClient, stack: Stack, payment: dict[str, Any] | None, **credit: Any
) -> dict[str, Any]:
    """A transfer to the account the QR names, recorded by the sandbox bank (and notified,
    unless ``deliver=False``)."""
    body = {"bank_bin": "970415", "account_no": "113366668888", **credit}
    if payment is not None:
        body = {
            "bank_bin": payment["qr"]["bank_bin"],
            "account_no": payment["qr"]["account_no"],
            "amount_vnd": payment["amount_vnd"],
            "description": payment["qr"]["purpose"],
            **credit,
        }
    r = await http.post(f"{stack.url('sandbox')}/bank/credits", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def read(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    r = await http.get(url, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def read_payment(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, payment: dict[str, Any]
) -> dict[str, Any]:
    return await read(
        http, f"{stack.url('payment')}/v1/payments/{payment['id']}", ward_finance(tokens)
    )


async def exceptions_of(
    http: httpx.AsyncClient, stack: Stack, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    """Every exception the caller sees, walking the cursor."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = (
            await http.get(f"{stack.url('payment')}/v1/exceptions", params=query, headers=headers)
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def signed(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Bank-Timestamp": stamp,
        "X-Bank-Signature": signature.hexdigest(),
    }


async def import_statement(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    day: dt.date,
    key: str | None = None,
) -> httpx.Response:
    return await http.post(
        f"{stack.url('payment')}/v1/bank-statements/import",
        json={"account_no": "113366668888", "bank_bin": "970415", "date": str(day)},
        headers={**headers, **({"Idempotency-Key": key} if key else {})},
    )


async def test_a_transfer_notice_with_the_qr_purpose_pays_the_fee_once_though_sent_three_times(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    payment = await transfer(http, stack, tokens)
    qr = payment["qr"]
    assert (qr["bank_bin"], qr["account_no"]) == ("970415", "113366668888")
    assert qr["payload"].startswith("000201010212") and payment["reference"] in qr["payload"]
    image = await http.get(
        f"{stack.url('payment')}/v1/payments/{payment['id']}/qr.png", headers=ward_finance(tokens)
    )
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(PNG_MAGIC)

    sent = await bank_credits(http, stack, payment, duplicates=3)
    answers = [d["answer"] for d in sent["deliveries"]]
    assert [d["status_code"] for d in sent["deliveries"]] == [200, 200, 200]
    assert sorted(a["duplicate_delivery"] for a in answers) == [False, True, True]
    assert {(a["outcome"], a["payment_id"]) for a in answers} == {("matched", payment["id"])}

    done = await read_payment(http, stack, tokens, payment)
    assert done["status"] == "succeeded" and done["receipt_id"]
    assert done["received_vnd"] == 20000
    assert [h["to_status"] for h in done["history"]] == ["created", "pending", "succeeded"]
    request = await read(
        http,
        f"{stack.url('payment')}/v1/payment-requests/{payment['request_id']}",
        ward_finance(tokens),
    )
    assert (request["status"], request["paid_vnd"]) == ("paid", 20000)

    bank_txn = sent["credit"]["transaction_id"]
    credits = await fetch(
        database_url,
        "SELECT outcome, payment_id::text AS payment_id, source FROM payment.bank_credits"
        " WHERE bank_txn_id = $1",
        bank_txn,
    )
    assert [tuple(c) for c in credits] == [("matched", payment["id"], "notice")]
    events = await fetch(
        database_url,
        "SELECT event_type FROM payment.outbox WHERE key = $1",
        payment["dossier_id"],
    )
    assert [e["event_type"] for e in events].count("vn.motcua.payment.succeeded.v1") == 1
    notices = await fetch(
        database_url,
        "SELECT signature_valid, outcome FROM payment.callbacks"
        " WHERE source = 'bank_notice' AND reference = $1",
        bank_txn,
    )
    assert sorted(n["outcome"] for n in notices) == [
        "duplicate_delivery",
        "duplicate_delivery",
        "matched",
    ]
    assert all(n["signature_valid"] for n in notices)

    listed = await read(
        http,
        f"{stack.url('payment')}/v1/bank-credits?outcome=matched&limit=200",
        ward_finance(tokens),
    )
    mine = [c for c in listed["items"] if c["bank_txn_id"] == bank_txn]
    assert [(c["payment_id"], c["amount_vnd"], c["outcome_vi"] != "") for c in mine] == [
        (payment["id"], 20000, True)
    ]


async def test_a_transfer_for_a_fee_the_gateway_already_took_is_receipted_and_given_back(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    officer = ward_finance(tokens)
    qr = await transfer(http, stack, tokens)
    card = await start_vnpay(http, stack, receptionist(tokens, WARD, WARD_PATH), qr["request_id"])
    await gateway_pays(http, stack, card["reference"])
    await payment_in(http, stack, officer, card["id"], "succeeded")

    # The citizen also paid by the QR: the money was taken, so it is receipted, never refused,
    # and proposed for refund; the fee counts once.
    first = await bank_credits(http, stack, qr)
    assert first["deliveries"][0]["answer"]["outcome"] == "matched"
    twice = await read_payment(http, stack, tokens, qr)
    assert twice["status"] == "succeeded" and twice["receipt_id"]
    request = await read(
        http, f"{stack.url('payment')}/v1/payment-requests/{qr['request_id']}", officer
    )
    assert (request["status"], request["paid_vnd"]) == ("paid", 20000)
    proposals = await fetch(
        database_url,
        "SELECT status, proposed_reason FROM payment.refunds WHERE payment_id = $1::uuid",
        qr["id"],
    )
    assert [tuple(p) for p in proposals] == [("proposed", "paid_twice")]

    # A third transfer naming the same QR finds it paid: money to give back, queued once.
    again = await bank_credits(http, stack, qr)
    assert again["deliveries"][0]["answer"]["outcome"] == "duplicate"
    queued = sorted(
        (e["kind"], e["received_vnd"])
        for e in await exceptions_of(http, stack, officer)
        if e["payment_id"] == qr["id"]
    )
    assert queued == [("duplicate", 20000), ("paid_twice", 20000)]


async def test_a_transfer_after_the_qr_expired_still_pays_an_open_request_late(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    officer = ward_finance(tokens)
    qr = await transfer(http, stack, tokens)
    # Its window ends unpaid and the expiry sweep ends it; then the transfer naming it comes.
    await fetch(
        stack.database_url,
        "UPDATE payment.payments SET expires_at = created_at, next_check_at = now()"
        " WHERE id = $1::uuid",
        qr["id"],
    )
    await payment_in(http, stack, officer, qr["id"], "expired")
    late = await bank_credits(http, stack, qr)
    assert late["deliveries"][0]["answer"]["outcome"] == "matched"
    paid_late = await read_payment(http, stack, tokens, qr)
    assert paid_late["status"] == "succeeded_late" and paid_late["receipt_id"]
    request = await read(
        http, f"{stack.url('payment')}/v1/payment-requests/{qr['request_id']}", officer
    )
    assert (request["status"], request["paid_vnd"]) == ("paid", 20000)
    assert not [e for e in await exceptions_of(http, stack, officer) if e["payment_id"] == qr["id"]]


async def test_a_forged_notice_is_refused_recorded_and_changes_nothing_else(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    payment = await transfer(http, stack, tokens)
    url = f"{stack.url('payment')}/v1/bank-credits"
    secret = stack.sandbox_secrets["bank_secret"]
    forged_txn = txn_id("FORGED")
    body = json.dumps(
        {
            "transaction_id": forged_txn,
            "bank_bin": "970415",
            "account_no": "113366668888",
            "amount_vnd": 20000,
            "description": payment["qr"]["purpose"],
            "credited_at": dt.datetime.now(VN).isoformat(),
        }
    ).encode()
    attempts = {
        "wrong secret": signed("not-the-bank-secret", body),
        "stale timestamp": signed(secret, body, at=time.time() - 3600),
        "no signature": {"Content-Type": "application/json"},
        "body changed after signing": signed(secret, body.replace(b"20000", b"2000")),
    }
    for why, headers in attempts.items():
        r = await http.post(url, content=body, headers=headers)
        assert r.status_code == 401, (why, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["title_vi"] and r.json()["type"].endswith("bank-signature-invalid")

    assert (await read_payment(http, stack, tokens, payment))["status"] == "pending"
    assert not await fetch(
        database_url, "SELECT 1 FROM payment.bank_credits WHERE bank_txn_id = $1", forged_txn
    )
    recorded = await fetch(
        database_url,
        "SELECT signature_valid, outcome, payload FROM payment.callbacks"
        " WHERE source = 'bank_notice' AND reference = $1",
        forged_txn,
    )
    assert len(recorded) == len(attempts)
    assert {(c["signature_valid"], c["outcome"]) for c in recorded} == {
        (False, "invalid_signature")
    }
    assert all(json.loads(c["payload"])["raw_body"] for c in recorded)
    assert not await fetch(
        database_url,
        "SELECT 1 FROM payment.exceptions WHERE source_key = $1",
        f"bank:{forged_txn}",
    )

    # The same notice signed by the bank is taken.
    r = await http.post(url, content=body, headers=signed(secret, body))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "outcome": "matched",
        "payment_id": payment["id"],
        "duplicate_delivery": False,
    }


async def test_bad_notices_and_imports_are_problems_never_500(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    url = f"{stack.url('payment')}/v1/bank-credits"
    secret = stack.sandbox_secrets["bank_secret"]
    good = {
        "transaction_id": txn_id("BAD"),
        "bank_bin": "970415",
        "account_no": "113366668888",
        "amount_vnd": 20000,
        "description": "CHUYEN TIEN",
        "credited_at": "2026-12-03T09:15:00+07:00",
    }
    bodies: dict[str, tuple[bytes, set[str]]] = {
        "malformed JSON": (b'{"transaction_id": "FT1", ', set()),
        "not an object": (b"[1, 2, 3]", set()),
        "negative amount": (json.dumps({**good, "amount_vnd": -5000}).encode(), {"amount_vnd"}),
        "amount as text": (json.dumps({**good, "amount_vnd": "nhieu"}).encode(), {"amount_vnd"}),
        "missing fields": (
            json.dumps({"transaction_id": good["transaction_id"]}).encode(),
            {"bank_bin", "account_no", "amount_vnd", "credited_at"},
        ),
        "bad time": (json.dumps({**good, "credited_at": "hom qua"}).encode(), {"credited_at"}),
    }
    for why, (body, fields) in bodies.items():
        r = await http.post(url, content=body, headers=signed(secret, body))
        assert r.status_code == 422, (why, r.status_code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM), why
        problem = r.json()
        assert problem["title_vi"] and all(e["message_vi"] for e in problem["errors"]), why
        named = {e["field"].removeprefix("body.") for e in problem["errors"]}
        assert fields <= named, (why, named)
    assert not await fetch(
        database_url,
        "SELECT 1 FROM payment.bank_credits WHERE bank_txn_id = $1",
        good["transaction_id"],
    )
    kept = await fetch(
        database_url,
        "SELECT count(*) AS n FROM payment.callbacks WHERE source = 'bank_notice'"
        " AND outcome = 'invalid_body' AND signature_valid",
    )
    assert kept[0]["n"] >= len(bodies)

    officer = ward_finance(tokens)
    imports = f"{stack.url('payment')}/v1/bank-statements/import"
    for why, body in {
        "missing date": {"account_no": "113366668888"},
        "not a date": {"account_no": "113366668888", "date": "03/12/2026"},
        "unknown field": {"account_no": "113366668888", "date": "2026-12-03", "x": 1},
        "not our account": {"account_no": "0001234567", "date": "2026-12-03"},
    }.items():
        r = await http.post(imports, json=body, headers=officer)
        assert r.status_code == 422, (why, r.text)
        assert r.headers["content-type"].startswith(PROBLEM), why
    r = await http.post(
        imports, content=b"{oops", headers={**officer, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    desk = receptionist(tokens, WARD, WARD_PATH)
    r = await http.post(
        imports, json={"account_no": "113366668888", "date": "2026-12-03"}, headers=desk
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)

    base = f"{stack.url('payment')}/v1/exceptions"
    problems = [
        await http.get(f"{base}?cursor=not-a-cursor", headers=officer),
        await http.get(f"{base}?kind=nonsense", headers=officer),
        await http.get(f"{base}/00000000-0000-4000-8000-000000000000", headers=officer),
        await http.post(
            f"{base}/00000000-0000-4000-8000-000000000000/resolve",
            json={"resolution": "refund"},
            headers=officer,
        ),
        await http.post(
            f"{base}/00000000-0000-4000-8000-000000000000/resolve",
            json={"resolution": "forget it"},
            headers=officer,
        ),
        await http.get(f"{stack.url('payment')}/v1/bank-credits?outcome=lost", headers=officer),
    ]
    assert [p.status_code for p in problems] == [422, 422, 404, 404, 422, 422]
    assert all(p.headers["content-type"].startswith(PROBLEM) for p in problems)


async def test_a_statement_puts_each_credit_in_its_bucket_once_and_importing_again_changes_nothing(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    day = statement_day(45)
    at = f"{day}T10:00:00+07:00"
    exact, over, under, paid = [await transfer(http, stack, tokens) for _ in range(4)]
    # Paid by its notice on that day: the statement lists it again, as a line already known.
    noticed = await bank_credits(http, stack, paid, credited_at=at)
    assert noticed["deliveries"][0]["answer"]["outcome"] == "matched"
    # Credited that day, its notice never sent: only the statement tells of it.
    silent = await bank_credits(http, stack, exact, credited_at=at, deliver=False)
    stray_amount = 20000 + secrets.randbelow(9000) + 1000  # nobody's fee, nothing to guess
    ids = {kind: txn_id(kind.upper()) for kind in ("over", "under", "again", "stray", "bad")}
    lines = [
        {
            "transaction_id": ids["over"],
            "amount_vnd": 25000,
            "description": f"CK {over['reference']}",
        },
        # Listed twice: one transaction, one credit.
        {
            "transaction_id": ids["over"],
            "amount_vnd": 25000,
            "description": f"CK {over['reference']}",
        },
        {
            "transaction_id": ids["under"],
            "amount_vnd": 15000,
            "description": under["qr"]["purpose"].lower(),
        },
        # A second, different transfer for the fee already paid: money to give back.
        {"transaction_id": ids["again"], "amount_vnd": 20000, "description": paid["qr"]["purpose"]},
        {
            "transaction_id": ids["stray"],
            "amount_vnd": stray_amount,
            "description": "NOP LE PHI HO SO",
        },
        {"transaction_id": ids["bad"], "amount_vnd": -100, "description": "DEBIT"},
    ]
    r = await http.post(
        f"{stack.url('sandbox')}/_sandbox/bank/statement-lines",
        json={"account_no": "113366668888", "date": str(day), "entries": lines},
    )
    assert r.status_code == 200, r.text

    officer = ward_finance(tokens)
    key = secrets.token_hex(8)
    r = await import_statement(http, stack, officer, day, key)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert (summary["lines"], summary["new"], summary["known"]) == (8, 5, 1)
    assert (summary["repeated"], summary["invalid"]) == (1, 1)
    assert summary["outcomes"] == {
        "matched": 1,
        "overpaid": 1,
        "underpaid": 1,
        "wrong_memo": 1,
        "duplicate": 1,
    }
    outcome_of = {i["bank_txn_id"]: (i["outcome"], i["payment_id"]) for i in summary["items"]}
    assert outcome_of == {
        silent["credit"]["transaction_id"]: ("matched", exact["id"]),
        ids["over"]: ("overpaid", over["id"]),
        ids["under"]: ("underpaid", under["id"]),
        ids["again"]: ("duplicate", paid["id"]),
        ids["stray"]: ("wrong_memo", None),
    }

    done = await read_payment(http, stack, tokens, exact)
    assert done["status"] == "succeeded" and done["receipt_id"]
    for payment, received in ((over, 25000), (under, 15000)):
        now = await read_payment(http, stack, tokens, payment)
        assert (now["status"], now["received_vnd"], now["receipt_id"]) == (
            "amount_mismatch",
            received,
            None,
        )
    assert (await read_payment(http, stack, tokens, paid))["status"] == "succeeded"

    seen = {
        (e["kind"], e["payment_id"], e["received_vnd"])
        for e in await exceptions_of(http, stack, officer, status="open")
        if e["payment_id"] in {over["id"], under["id"], paid["id"]}
    }
    assert seen == {
        ("overpaid", over["id"], 25000),
        ("underpaid", under["id"], 15000),
        ("duplicate", paid["id"], 20000),
    }
    # No dossier is named and the account is every agency's: only ops sees where it went.
    stray_credit = next(i for i in summary["items"] if i["bank_txn_id"] == ids["stray"])
    unplaced = [
        e
        for e in await exceptions_of(http, stack, ops(tokens), kind="wrong_memo")
        if e["credit_id"] == stray_credit["id"]
    ]
    assert [(e["unit_path"], e["received_vnd"], e["expected_vnd"]) for e in unplaced] == [
        ("", stray_amount, None)
    ]
    assert stray_credit["id"] not in {
        e["credit_id"] for e in await exceptions_of(http, stack, officer, kind="wrong_memo")
    }

    async def state() -> tuple[Any, ...]:
        credits = await fetch(
            database_url,
            "SELECT bank_txn_id, outcome, payment_id FROM payment.bank_credits"
            " WHERE credited_at::date BETWEEN $1::date - 1 AND $1::date + 1 ORDER BY bank_txn_id",
            day,
        )
        raised = await fetch(
            database_url,
            "SELECT kind, source_key, payment_id FROM payment.exceptions"
            " WHERE source_key = ANY($1::text[]) OR payment_id = ANY($2::uuid[])"
            " ORDER BY kind, source_key",
            [f"bank:{t}" for t in ids.values()],
            [p["id"] for p in (exact, over, under, paid)],
        )
        payments = await fetch(
            database_url,
            "SELECT id, status, version FROM payment.payments WHERE id = ANY($1::uuid[])"
            " ORDER BY id",
            [p["id"] for p in (exact, over, under, paid)],
        )
        events = await fetch(
            database_url,
            "SELECT count(*) AS n FROM payment.outbox WHERE key = ANY($1::text[])",
            [p["dossier_id"] for p in (exact, over, under, paid)],
        )
        return (
            tuple(map(tuple, credits)),
            tuple(map(tuple, raised)),
            tuple(map(tuple, payments)),
            events[0]["n"],
        )

    before = await state()
    assert sum(1 for e in before[1] if e[0] == "duplicate") == 1

    replayed = await import_statement(http, stack, officer, day, key)
    assert replayed.status_code == 200 and replayed.json() == summary
    again = await import_statement(http, stack, officer, day)
    assert again.status_code == 200, again.text
    second = again.json()
    assert (second["lines"], second["new"], second["known"], second["items"]) == (8, 0, 6, [])
    assert (second["repeated"], second["invalid"]) == (1, 1)
    assert set(second["outcomes"].values()) == {0}
    assert await state() == before

    recorded = await fetch(
        database_url,
        "SELECT signature_valid, outcome FROM payment.callbacks"
        " WHERE source = 'bank_statement' AND reference = $1",
        f"113366668888:{day}",
    )
    assert [tuple(c) for c in recorded] == [(True, "imported"), (True, "imported")]


async def test_an_underpaid_transfer_waits_for_finance_who_resolves_it_once(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    under, over = await transfer(http, stack, tokens), await transfer(http, stack, tokens)
    short = await bank_credits(http, stack, under, amount_vnd=12000)
    assert short["deliveries"][0]["answer"]["outcome"] == "underpaid"
    extra = await bank_credits(http, stack, over, amount_vnd=30000)
    assert extra["deliveries"][0]["answer"]["outcome"] == "overpaid"

    officer = ward_finance(tokens)
    items = {e["payment_id"]: e for e in await exceptions_of(http, stack, officer, status="open")}
    underpaid, overpaid = items[under["id"]], items[over["id"]]
    assert (underpaid["kind"], underpaid["expected_vnd"], underpaid["received_vnd"]) == (
        "underpaid",
        20000,
        12000,
    )
    assert underpaid["unit_path"] == WARD_PATH and underpaid["kind_vi"] == "chuyển thiếu tiền"
    base = f"{stack.url('payment')}/v1/exceptions"
    one = await read(http, f"{base}/{underpaid['id']}", officer)
    assert one == underpaid

    r = await http.post(
        f"{base}/{overpaid['id']}/resolve", json={"resolution": "request_balance"}, headers=officer
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    r = await http.post(
        f"{base}/{underpaid['id']}/resolve",
        json={"resolution": "request_balance", "note": "Đã nhắn công dân nộp thêm 8.000 đồng"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    resolved = r.json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "cb.taichinh.00235"
    assert resolved["resolution"].startswith("request_balance") and resolved["resolved_at"]
    r = await http.post(
        f"{base}/{underpaid['id']}/resolve", json={"resolution": "dismiss"}, headers=officer
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)
    assert (await read(http, f"{base}/{underpaid['id']}", officer))["resolution"] == (
        resolved["resolution"]
    )

    desk = receptionist(tokens, WARD, WARD_PATH)
    r = await http.post(
        f"{base}/{overpaid['id']}/resolve", json={"resolution": "refund"}, headers=desk
    )
    assert r.status_code == 403
    r = await http.post(
        f"{base}/{overpaid['id']}/resolve", json={"resolution": "refund"}, headers=officer
    )
    assert r.status_code == 200, r.text
    proposals = await fetch(
        database_url,
        "SELECT status, proposed_reason FROM payment.refunds WHERE payment_id = $1::uuid",
        over["id"],
    )
    assert [tuple(p) for p in proposals] == [("proposed", "exception")]


async def test_finance_of_another_province_sees_none_of_hanois_exceptions_or_credits(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    payment = await transfer(http, stack, tokens)
    sent = await bank_credits(http, stack, payment, amount_vnd=19000)
    assert sent["deliveries"][0]["answer"]["outcome"] == "underpaid"
    bank_txn = sent["credit"]["transaction_id"]

    async def hanoi_item() -> dict[str, Any] | None:
        found = [
            e
            for e in await exceptions_of(
                http, stack, finance(tokens, HANOI, HANOI), kind="underpaid"
            )
            if e["payment_id"] == payment["id"]
        ]
        return found[0] if found else None

    item = await eventually(hanoi_item)
    nghe_an = finance(tokens, NGHE_AN, NGHE_AN)
    assert item["id"] not in {e["id"] for e in await exceptions_of(http, stack, nghe_an)}
    base = f"{stack.url('payment')}/v1/exceptions/{item['id']}"
    assert (await http.get(base, headers=nghe_an)).status_code == 404
    r = await http.post(f"{base}/resolve", json={"resolution": "dismiss"}, headers=nghe_an)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    credits = await read(http, f"{stack.url('payment')}/v1/bank-credits?limit=200", nghe_an)
    assert bank_txn not in {c["bank_txn_id"] for c in credits["items"]}
    # The ward's own finance officer and ops do see it.
    assert (await http.get(base, headers=ward_finance(tokens))).status_code == 200
    assert (await http.get(base, headers=ops(tokens))).status_code == 200
    desk = receptionist(tokens, WARD, WARD_PATH)
    r = await http.get(f"{stack.url('payment')}/v1/exceptions", headers=desk)
    assert r.status_code == 403
