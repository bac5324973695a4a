"""Benchmark: starting online payments and taking the gateway's IPNs.

Prints numbers; never fails on time. ``make bench`` or ``python -m bench.payment --payments 2000``.
Payment requests are preloaded straight into payment's tables (as if intake had received the
dossiers); the IPNs are signed with the stack's own terminal secret and sent to the IPN URL the
way the gateway sends them, so what is measured is this service, not the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
import uuid

import asyncpg
import httpx

from bench.httpload import Call, load, report
from bench.stack import bench_stack
from payment_service.domain import vnpay
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM

PRELOAD_SQL = """
INSERT INTO payment.payment_requests (id, dossier_id, dossier_code, unit_path, purpose,
    agency_code, lines, amount_vnd, paid_vnd, status, source_event_id, created_at, version)
SELECT gen_random_uuid(), gen_random_uuid(), $1 || '-B' || lpad(g::text, 8, '0'), $2, 'fee',
    'motcua-' || $1,
    jsonb_build_array(jsonb_build_object('code', '1.004194-01', 'kind', 'charge',
        'name', 'Lệ phí đăng ký thường trú', 'amount_vnd', 20000)),
    20000, 0, 'open', 'bench:' || g, now(), 1
FROM generate_series(1, $3) AS g
RETURNING id
"""


async def preload(database_url: str, n: int) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(PRELOAD_SQL, HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}", n)
        await conn.execute("ANALYZE payment.payment_requests")
        return [str(r["id"]) for r in rows]
    finally:
        await conn.close()


def ipn_params(tmn_code: str, secret: str, reference: str, number: int) -> dict[str, str]:
    params = {
        "vnp_TmnCode": tmn_code,
        "vnp_Amount": "2000000",
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": f"VNP{number:08d}",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan phi le phi",
        "vnp_PayDate": vnpay.gmt7(dt.datetime.now(dt.UTC)),
        "vnp_ResponseCode": "00",
        "vnp_TransactionNo": f"{14000000 + number}",
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": reference,
    }
    params["vnp_SecureHash"] = vnpay.sign(secret, vnpay.canonical_query(params))
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    n, c = args.payments, args.concurrency
    with bench_stack(roles=["receptionist", "finance"]) as bench:
        url = bench.stack.url("payment")
        request_ids = asyncio.run(preload(bench.database_url, n))
        print(f"{n} open payment requests preloaded; concurrency {c}")

        async def start(http: httpx.AsyncClient, i: int) -> httpx.Response:
            return await http.post(
                "/v1/payments",
                json={"request_id": request_ids[i], "method": "vnpay"},
                headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
            )

        answers, latencies, elapsed = asyncio.run(load(url, bench.token, n, c, start, 201))
        report("payment creation (POST /v1/payments, VNPay, signed pay URL)", n, latencies, elapsed)
        references = [a.json()["reference"] for a in answers]
        secrets = bench.stack.sandbox_secrets

        def ipn(expect: str) -> Call:
            async def call(http: httpx.AsyncClient, i: int) -> httpx.Response:
                params = ipn_params(secrets["tmn_code"], secrets["hash_secret"], references[i], i)
                r = await http.get("/v1/gateways/vnpay/ipn", params=params)
                if r.json().get("RspCode") != expect:
                    raise AssertionError(f"IPN answered {r.text}, expected {expect}")
                return r

            return call

        _, latencies, elapsed = asyncio.run(load(url, bench.token, n, c, ipn("00"), 200))
        report("IPN, first delivery (verify, settle, receipt, events)", n, latencies, elapsed)
        _, latencies, elapsed = asyncio.run(load(url, bench.token, n, c, ipn("02"), 200))
        report("IPN, repeated delivery (answered 02)", n, latencies, elapsed)
        t0 = time.perf_counter()
        receipts = asyncio.run(count_receipts(bench.database_url))
        print(f"{receipts} receipts numbered ({time.perf_counter() - t0:.2f} s to count)")


async def count_receipts(database_url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM payment.receipts"))
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
