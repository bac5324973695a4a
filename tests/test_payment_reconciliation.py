"""Daily reconciliation (đối soát) against the sandbox's statements: fees paid through the
gateway, then a statement that lists one of them twice, one nobody paid, and one with another
amount; the bank's statement for VietQR transfers; re-running; the CSV; scoping and problems.

Everything runs for one ward nobody else's tests use (Văn Miếu - Quốc Tử Giám), so today's
report of its desk holds only what these tests put there."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from payment_service.gateways.vnpay_client import VnpayClient
from payment_service.reconciliation import service
from payment_service.reconciliation.schemas import ReconciliationCreate
from payment_service.settings import PaymentSettings
from services.stack import Stack
from shared.auth import Principal
from shared.errors import Problem
from tests.payment_support import (
    fetch,
    gateway_pays,
    open_request,
    payment_in,
    received_dossier,
    receptionist,
    start_vnpay,
)
from tests.support import HANOI, NGHE_AN, Tokens

WARD = "00196"  # Phường Văn Miếu - Quốc Tử Giám, Hà Nội
WARD_PATH = f"{HANOI}.{WARD}"
AGENCY = f"motcua-{WARD}"
VN = dt.timezone(dt.timedelta(hours=7))
PROBLEM = "application/problem+json"
# The account every agency without one of its own collects into (the payment settings' default).
TREASURY_BIN, TREASURY_ACCOUNT = "970415", "113366668888"


def finance(tokens: Tokens, unit: str = WARD, path: str = WARD_PATH) -> dict[str, str]:
    return tokens.bearer(f"cb.taichinh.{unit}", ["finance"], unit, path)


def today() -> dt.date:
    return dt.datetime.now(VN).date()


async def paid_fee(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, **pay_options: Any
) -> dict[str, Any]:
    """A fee of the ward's desk paid through the gateway today, settled by its IPN."""
    desk = receptionist(tokens, WARD, WARD_PATH)
    dossier = await received_dossier(http, stack, tokens, unit=WARD, path=WARD_PATH)
    request = await open_request(http, stack, desk, dossier["id"])
    assert request["agency_code"] == AGENCY
    payment = await start_vnpay(http, stack, desk, request["id"])
    await gateway_pays(http, stack, payment["reference"], **pay_options)
    return await payment_in(http, stack, desk, payment["id"], "succeeded")


async def reconcile(
    http: httpx.AsyncClient,
    stack: Stack,
    headers: dict[str, str],
    method: str = "vnpay",
    day: dt.date | None = None,
    agency_code: str = AGENCY,
) -> httpx.Response:
    return await http.post(
        f"{stack.url('payment')}/v1/reconciliations",
        json={"agency_code": agency_code, "method": method, "day": str(day or today())},
        headers=headers,
    )


def findings(run: dict[str, Any]) -> list[tuple[str, str, str, int | None, int | None]]:
    return [
        (i["category"], i["key"], i["kind"], i["our_amount_vnd"], i["their_amount_vnd"])
        for i in run["items"]
    ]


async def test_gateway_reconciliation_finds_the_duplicate_the_orphan_and_the_mismatch(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    first, second, third = [await paid_fee(http, stack, tokens) for _ in range(3)]
    # The gateway's IPN said 20,000 VND, its statement says 15,000: the two disagree.
    fourth = await paid_fee(http, stack, tokens, statement_amount_vnd=15000)
    orphan = f"ORPHAN{secrets.token_hex(4).upper()}"
    duplicated = await http.get(
        f"{stack.url('sandbox')}/_sandbox/vnpay/transactions/"
        f"{stack.sandbox_secrets['tmn_code']}/{second['reference']}"
    )
    order = duplicated.json()
    lines = [
        {
            "vnp_TxnRef": second["reference"],
            "vnp_TransactionNo": order["transaction_no"],
            "vnp_Amount": order["amount"],
            "vnp_PayDate": order["pay_date"],
        },
        {
            "vnp_TxnRef": orphan,
            "vnp_TransactionNo": "99990001",
            "vnp_Amount": 3500000,
            "vnp_PayDate": order["pay_date"],
        },
    ]
    r = await http.post(
        f"{stack.url('sandbox')}/_sandbox/vnpay/statement-lines",
        json={"tmn_code": stack.sandbox_secrets["tmn_code"], "date": str(today()), "lines": lines},
    )
    assert r.status_code == 200, r.text

    officer = finance(tokens)
    r = await reconcile(http, stack, officer)
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["agency_code"], run["method"], run["day"], run["runs"]) == (
        AGENCY,
        "vnpay",
        str(today()),
        1,
    )
    assert run["unit_path"] == WARD_PATH
    matched = sorted(
        ("matched", p["reference"], "payment", 20000, 20000) for p in (first, second, third)
    )
    assert findings(run) == [
        *matched,
        ("only_theirs", orphan, "payment", None, 35000),
        ("amount_differs", fourth["reference"], "payment", 20000, 15000),
        ("duplicate_theirs", second["reference"], "payment", None, 20000),
    ]
    by_category = {i["category"]: i for i in run["items"]}
    assert by_category["amount_differs"]["difference_vnd"] == -5000
    assert by_category["amount_differs"]["payment_id"] == fourth["id"]
    assert by_category["only_theirs"]["external_id"] == "99990001"
    assert run["summary"]["matched"] == {
        "label_vi": "khớp",
        "count": 3,
        "our_amount_vnd": 60000,
        "their_amount_vnd": 60000,
    }
    assert run["summary"]["only_ours"]["count"] == 0
    assert run["discrepancies"] == 3

    again = await reconcile(http, stack, officer)
    assert again.status_code == 200, again.text
    rerun = again.json()
    assert rerun["id"] == run["id"] and rerun["runs"] == 2
    assert rerun["items"] == run["items"] and rerun["summary"] == run["summary"]

    stored = await http.get(
        f"{stack.url('payment')}/v1/reconciliations/{run['id']}", headers=officer
    )
    assert stored.status_code == 200
    assert stored.json()["items"] == run["items"] and stored.json()["runs"] == 2

    report = await http.get(
        f"{stack.url('payment')}/v1/reconciliations/{run['id']}/report.csv", headers=officer
    )
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    assert f"doi-soat-{AGENCY}-vnpay-{today()}.csv" in report.headers["content-disposition"]
    assert report.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Kết quả / Category" and "Mã tham chiếu / Reference" in rows[0]
    assert [row[0] for row in rows[1:7]] == [i["category"] for i in run["items"]]
    assert rows[5][2:7] == [fourth["reference"], "thanh toán", "20000", "15000", "-5000"]
    assert rows[7] == []
    assert rows[8][0] == "Tổng hợp / Summary"
    assert {row[0]: row[2:] for row in rows[9:]}["matched"] == ["3", "60000", "60000"]
    assert len(rows) == 9 + 5


async def test_the_same_idempotency_key_replays_the_run_without_running_it_again(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    officer = {**finance(tokens, HANOI, HANOI), "Idempotency-Key": uuid.uuid4().hex}
    day = today() - dt.timedelta(days=1)
    first = await reconcile(http, stack, officer, day=day, agency_code=f"ttphcc-{HANOI}")
    assert first.status_code == 201, first.text
    replay = await reconcile(http, stack, officer, day=day, agency_code=f"ttphcc-{HANOI}")
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.json()["runs"] == 1 and replay.json()["unit_path"] == HANOI
    other_body = await reconcile(http, stack, officer, day=day, agency_code=f"thue-{HANOI}")
    assert other_body.status_code == 422
    assert other_body.headers["content-type"].startswith(PROBLEM)


async def test_bank_reconciliation_lists_credits_we_did_not_attribute(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    desk = receptionist(tokens, WARD, WARD_PATH)
    dossier = await received_dossier(http, stack, tokens, unit=WARD, path=WARD_PATH)
    request = await open_request(http, stack, desk, dossier["id"])
    r = await http.post(
        f"{stack.url('payment')}/v1/payments",
        json={"request_id": request["id"], "method": "vietqr"},
        headers=desk,
    )
    assert r.status_code == 201, r.text
    transfer = r.json()
    now = dt.datetime.now(dt.UTC)
    tag = secrets.token_hex(4).upper()
    paid, stray, unlisted = f"FTPAID{tag}", f"FTSTRAY{tag}", f"FTUNLISTED{tag}"

    async def bank_credits(transaction_id: str, amount_vnd: int, memo: str) -> None:
        r = await http.post(
            f"{stack.url('sandbox')}/bank/credits",
            json={
                "bank_bin": TREASURY_BIN,
                "account_no": TREASURY_ACCOUNT,
                "amount_vnd": amount_vnd,
                "description": memo,
                "transaction_id": transaction_id,
                "deliver": False,
            },
        )
        assert r.status_code == 201, r.text

    await bank_credits(paid, 20000, f"{transfer['reference']} LE PHI")
    await bank_credits(stray, 50000, "CHUYEN TIEN LE PHI")  # no reference: nobody's payment
    r = await http.post(
        f"{stack.url('sandbox')}/_sandbox/bank/statement-lines",
        json={
            "account_no": TREASURY_ACCOUNT,
            "date": str(today()),
            "entries": [
                {"transaction_id": paid, "bank_bin": TREASURY_BIN, "amount_vnd": 20000},
            ],
        },
    )
    assert r.status_code == 200, r.text
    # What the credit-notice handler keeps of a matched transfer, written as it would: one the
    # bank lists, and one it does not (a notice of a credit that never reached the statement).
    for transaction_id in (paid, unlisted):
        await fetch(
            database_url,
            "INSERT INTO payment.bank_credits (id, bank_txn_id, bank_bin, account_no, amount_vnd,"
            " memo, credited_at, source, outcome, payment_id, received_at)"
            " VALUES ($1, $2, $3, $4, 20000, $5, $6, 'notice', 'matched', $7, $6)",
            uuid.uuid4(),
            transaction_id,
            TREASURY_BIN,
            TREASURY_ACCOUNT,
            transfer["reference"],
            now,
            uuid.UUID(transfer["id"]),
        )

    officer = finance(tokens)
    r = await reconcile(http, stack, officer, method="vietqr")
    assert r.status_code == 201, r.text
    run = r.json()
    # The treasury's account also holds other agencies' transfers: only ours are asserted.
    mine = [f for f in findings(run) if f[1] in (paid, stray, unlisted)]
    assert sorted(mine) == sorted(
        [
            ("matched", paid, "payment", 20000, 20000),
            ("only_ours", unlisted, "payment", 20000, None),
            ("only_theirs", stray, "payment", None, 50000),
            ("duplicate_theirs", paid, "payment", None, 20000),
        ]
    )
    rerun = (await reconcile(http, stack, officer, method="vietqr")).json()
    assert rerun["runs"] == 2 and rerun["items"] == run["items"]


async def test_officer_of_another_province_can_neither_run_nor_read_nor_list(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    ours = await reconcile(http, stack, finance(tokens, HANOI, HANOI), agency_code=f"thue-{HANOI}")
    assert ours.status_code in (200, 201), ours.text
    stranger = finance(tokens, NGHE_AN, NGHE_AN)
    r = await reconcile(http, stack, stranger, agency_code=f"thue-{HANOI}")
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["title_vi"]
    base = f"{stack.url('payment')}/v1/reconciliations"
    assert (await http.get(f"{base}/{ours.json()['id']}", headers=stranger)).status_code == 404
    report = await http.get(f"{base}/{ours.json()['id']}/report.csv", headers=stranger)
    assert report.status_code == 404
    listed = await http.get(base, params={"agency_code": f"thue-{HANOI}"}, headers=stranger)
    assert listed.status_code == 200 and listed.json()["items"] == []
    mine = await http.get(
        base, params={"agency_code": f"thue-{HANOI}"}, headers=finance(tokens, HANOI, HANOI)
    )
    assert [i["id"] for i in mine.json()["items"]] == [ours.json()["id"]]
    assert "items" not in mine.json()["items"][0]
    desk = receptionist(tokens, WARD, WARD_PATH)
    assert (await reconcile(http, stack, desk)).status_code == 403
    ops = tokens.ops()
    assert (await http.get(f"{base}/{ours.json()['id']}", headers=ops)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"agency_code": "motcua-0019", "method": "vnpay", "day": "2026-12-03"},
        {"agency_code": AGENCY, "method": "cash", "day": "2026-12-03"},
        {"agency_code": AGENCY, "method": "vnpay", "day": "03/12/2026"},
        {"agency_code": AGENCY, "method": "vnpay"},
        {"agency_code": AGENCY, "method": "vnpay", "day": "2026-12-03", "extra": 1},
    ],
)
async def test_bad_input_is_a_422_problem(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, body: dict[str, Any]
) -> None:
    r = await http.post(
        f"{stack.url('payment')}/v1/reconciliations", json=body, headers=finance(tokens)
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"] and all(e["message_vi"] for e in r.json()["errors"])


async def test_a_day_not_yet_begun_and_an_unknown_agency_are_problems(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    r = await reconcile(http, stack, finance(tokens), day=today() + dt.timedelta(days=2))
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"][0]["field"] == "body.day"
    # A ward whose desk never received a dossier: payment knows nothing to scope it by.
    r = await reconcile(http, stack, tokens.ops(), agency_code="motcua-99999")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    unknown = await http.get(
        f"{stack.url('payment')}/v1/reconciliations/{uuid.uuid4()}", headers=finance(tokens)
    )
    assert unknown.status_code == 404


async def test_a_statement_that_cannot_be_had_or_trusted_is_a_502_and_stores_nothing(
    stack: Stack, database_url: str
) -> None:
    """Run in process against the real database, with settings the stack does not have: a bank
    nobody listens for, and the sandbox's bank and gateway with secrets that are not theirs."""
    sandbox = stack.url("sandbox")
    day = today() - dt.timedelta(days=3)
    officer = Principal("cb.taichinh.40", frozenset({"finance"}), NGHE_AN, NGHE_AN)
    cases = [
        ("vietqr", {"bank_statement_url": "http://127.0.0.1:9/bank/statements"}, "ConnectError"),
        ("vietqr", {"bank_statement_url": f"{sandbox}/bank/statements"}, "bad signature"),
        (
            "vnpay",
            {"vnpay_statement_url": f"{sandbox}/merchant_webapi/api/statement"},
            "bad checksum",
        ),
    ]
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        for method, urls, why in cases:
            settings = PaymentSettings(
                database_url=database_url,
                vnpay_tmn_code=stack.sandbox_secrets["tmn_code"],
                vnpay_hash_secret="not-the-terminal-secret",
                bank_notice_secret="not-the-bank-secret",
                vnpay_timeout_s=5,
                **urls,
            )
            body = ReconciliationCreate(agency_code=f"thue-{NGHE_AN}", method=method, day=day)
            async with sessions() as session:
                with pytest.raises(Problem) as raised:
                    async with session.begin():
                        await service.run(
                            session,
                            settings,
                            VnpayClient.from_settings(settings),
                            officer,
                            body,
                            dt.datetime.now(dt.UTC),
                        )
            assert raised.value.status == 502, (method, urls)
            assert why in (raised.value.detail or ""), raised.value.detail
            assert raised.value.title_vi.startswith("Không lấy được bảng kê")
    finally:
        await engine.dispose()
    stored = await fetch(
        database_url,
        "SELECT count(*) AS n FROM payment.reconciliation_runs WHERE agency_code = $1",
        f"thue-{NGHE_AN}",
    )
    assert stored[0]["n"] == 0
