"""Benchmark: intake submission throughput and end-to-end lag from POST to the metrics count.

Prints numbers; never fails on time. ``make bench`` or ``python -m bench.run --dossiers 3000``.
Uses the configured PostgreSQL/broker, or private ones, and a database and topics of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from services import database
from services.stack import Infrastructure, Stack, free_ports
from shared.auth import mint_token
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM, dossier_body

DATA = Path(".data") / "bench"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def submit(
    url: str, token: str, n: int, concurrency: int
) -> tuple[dict[str, dt.datetime], list[float], float]:
    sent_at: dict[str, dt.datetime] = {}
    latencies: list[float] = []
    remaining = n
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started_wall = dt.datetime.now(dt.UTC)
                t0 = time.perf_counter()
                r = await http.post("/v1/dossiers", json=dossier_body())
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    raise RuntimeError(f"{r.status_code}: {r.text}")
                sent_at[r.json()["id"]] = started_wall

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return sent_at, latencies, elapsed


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
    args = parser.parse_args()

    infra = Infrastructure.from_environment(DATA)
    stack = None
    try:
        name = f"motcua_bench_{uuid.uuid4().hex[:6]}"
        url = database.create_database(infra.server_url, name, fresh=True)
        database.prepare(url)
        stack = Stack(
            url,
            infra.bootstrap_servers,
            keys_dir=DATA / "keys",
            ports=free_ports(),
            log_dir=DATA / "logs",
            extra_env={"TOPIC_NAMESPACE": f"bench{uuid.uuid4().hex[:6]}.", "LOG_LEVEL": "WARNING"},
        )
        stack.start()
        token = mint_token(
            stack.private_key_file.read_bytes(),
            sub="bench",
            roles=["receptionist"],
            unit=HOAN_KIEM,
            unit_path=f"{HANOI}.{HOAN_KIEM}",
        )
        # Warm up connections and caches; not measured.
        asyncio.run(submit(stack.url("intake"), token, 50, 8))
        sent_at, latencies, elapsed = asyncio.run(
            submit(stack.url("intake"), token, args.dossiers, args.concurrency)
        )
        lag, counted = asyncio.run(lags(url, sent_at, timeout=120))
        ms = [x * 1000 for x in latencies]
        print(f"intake POST /v1/dossiers: {args.dossiers} dossiers, concurrency {args.concurrency}")
        print(f"  throughput   {args.dossiers / elapsed:8.1f} req/s  ({elapsed:.1f} s)")
        print(f"  latency p50  {statistics.median(ms):8.1f} ms")
        print(f"  latency p99  {pct(ms, 0.99):8.1f} ms")
        print(f"end to end, POST sent -> counted by metrics: {counted}/{len(sent_at)} counted")
        if lag:
            lag_ms = [x * 1000 for x in lag]
            print(f"  lag p50      {statistics.median(lag_ms):8.1f} ms")
            print(f"  lag p99      {pct(lag_ms, 0.99):8.1f} ms")
            print(f"  lag max      {max(lag_ms):8.1f} ms")
    finally:
        if stack is not None:
            stack.stop()
            database.drop_database(infra.server_url, name)
        infra.stop()


if __name__ == "__main__":
    main()
