"""Benchmark: intake submission and reception throughput, and end-to-end lag to the metrics count.

Prints numbers; never fails on time. ``make bench`` or ``python -m bench.run --dossiers 3000``.
Uses the configured PostgreSQL/broker, or private ones, and a database and topics of its own.
The dossiers table is first filled with ``--preload`` historical dossiers, so the numbers are
those of a desk with years of records behind it, not of an empty table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg
import httpx

from bench.stack import bench_stack
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM, dossier_body


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


PRELOAD_SQL = """
INSERT INTO intake.dossiers (id, code, procedure_key, procedure_version, unit_code, unit_path,
    channel, status, applicant, applicant_id_number, submitted_by, received_at, appointment_at,
    fee_amount_vnd, created_at, version)
SELECT gen_random_uuid(), 'H' || $1::text || '-' || lpad(g::text, 9, '0'), 'dang-ky-thuong-tru', 1,
    $1, $2, (ARRAY['online','direct','postal','integration'])[1 + g % 4],
    (ARRAY['returned','resolved','in_processing','received'])[1 + g % 4],
    jsonb_build_object('kind', 'citizen', 'id_number', lpad(g::text, 12, '0'), 'name', 'Lịch sử'),
    lpad(g::text, 12, '0'), 'history', now() - make_interval(mins => g),
    now() - make_interval(mins => g) + interval '5 days', 0,
    now() - make_interval(mins => g), 1
FROM generate_series(1, $3) AS g
"""


async def preload(database_url: str, n: int) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        if n:
            await conn.execute(PRELOAD_SQL, HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}", n)
            await conn.execute("ANALYZE intake.dossiers")
        return int(await conn.fetchval("SELECT count(*) FROM intake.dossiers"))
    finally:
        await conn.close()


async def count_dossiers(database_url: str) -> int:
    return await preload(database_url, 0)


Call = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def load(
    url: str, token: str, n: int, concurrency: int, call: Call, expect: int
) -> tuple[list[httpx.Response], list[float], float]:
    """Run ``call`` for items 0..n-1 on ``concurrency`` connections; answers in item order."""
    answers: list[httpx.Response | None] = [None] * n
    latencies: list[float] = []
    items = iter(range(n))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:

        async def worker() -> None:
            for i in items:
                t0 = time.perf_counter()
                r = await call(http, i)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != expect:
                    raise RuntimeError(f"{r.status_code}: {r.text}")
                answers[i] = r

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return [a for a in answers if a is not None], latencies, elapsed


async def submit(
    url: str, token: str, n: int, concurrency: int, channel: str = "direct"
) -> tuple[dict[str, dt.datetime], list[httpx.Response], list[float], float]:
    sent_at: dict[str, dt.datetime] = {}

    async def post(http: httpx.AsyncClient, _: int) -> httpx.Response:
        started_wall = dt.datetime.now(dt.UTC)
        r = await http.post("/v1/dossiers", json=dossier_body(channel=channel))
        if r.status_code == 201:
            sent_at[r.json()["id"]] = started_wall
        return r

    answers, latencies, elapsed = await load(url, token, n, concurrency, post, 201)
    return sent_at, answers, latencies, elapsed


async def receive(
    url: str, token: str, submitted: list[httpx.Response], concurrency: int
) -> tuple[list[float], float]:
    async def post(http: httpx.AsyncClient, i: int) -> httpx.Response:
        r = submitted[i]
        return await http.post(
            f"/v1/dossiers/{r.json()['code']}/receive", headers={"If-Match": r.headers["ETag"]}
        )

    _, latencies, elapsed = await load(url, token, len(submitted), concurrency, post, 200)
    return latencies, elapsed


def report(title: str, n: int, latencies: list[float], elapsed: float) -> None:
    ms = [x * 1000 for x in latencies]
    print(title)
    print(f"  throughput   {n / elapsed:8.1f} req/s  ({elapsed:.1f} s)")
    print(f"  latency p50  {statistics.median(ms):8.1f} ms")
    print(f"  latency p99  {pct(ms, 0.99):8.1f} ms")


async def lags(
    database_url: str, sent_at: dict[str, dt.datetime], timeout: float
) -> tuple[list[float], int]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        deadline = time.monotonic() + timeout
        rows: list[asyncpg.Record] = []
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                "SELECT dossier_id::text AS id, counted_at FROM metrics.dossier_facts "
                "WHERE counted_at IS NOT NULL AND dossier_id = ANY($1::uuid[])",
                list(sent_at),
            )
            if len(rows) == len(sent_at):
                break
            await asyncio.sleep(0.5)
        return [(r["counted_at"] - sent_at[r["id"]]).total_seconds() for r in rows], len(rows)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--preload", type=int, default=200_000, help="historical dossiers put in the table first"
    )
    args = parser.parse_args()

    with bench_stack() as bench:
        stack, url, token = bench.stack, bench.database_url, bench.token
        intake = stack.url("intake")
        t0 = time.perf_counter()
        before = asyncio.run(preload(url, args.preload))
        print(f"preloaded {args.preload} historical dossiers in {time.perf_counter() - t0:.1f} s")
        # Warm up connections and caches; not measured.
        asyncio.run(submit(intake, token, 50, 8))
        n, c = args.dossiers, args.concurrency
        print(f"{before} dossiers in the table before the run; concurrency {c}")

        sent_at, _, latencies, elapsed = asyncio.run(submit(intake, token, n, c))
        report(
            f"desk submission, received on the spot (POST /v1/dossiers): {n}", n, latencies, elapsed
        )

        _, waiting, latencies, elapsed = asyncio.run(submit(intake, token, n, c, "postal"))
        report(f"postal submission, awaiting check (POST /v1/dossiers): {n}", n, latencies, elapsed)
        latencies, elapsed = asyncio.run(receive(intake, token, waiting, c))
        report(
            f"reception with If-Match (POST /v1/dossiers/{{code}}/receive): {n}",
            n,
            latencies,
            elapsed,
        )
        print(f"{asyncio.run(count_dossiers(url))} dossiers in the table after the run")

        lag, counted = asyncio.run(lags(url, sent_at, timeout=120))
        print(f"end to end, desk POST sent -> counted by metrics: {counted}/{len(sent_at)} counted")
        if lag:
            lag_ms = [x * 1000 for x in lag]
            print(f"  lag p50      {statistics.median(lag_ms):8.1f} ms")
            print(f"  lag p99      {pct(lag_ms, 0.99):8.1f} ms")
            print(f"  lag max      {max(lag_ms):8.1f} ms")


if __name__ == "__main__":
    main()
