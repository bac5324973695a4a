"""A closed-loop load over httpx, for the benches whose requests depend on earlier answers
(workflow actions, payments). It spends more CPU per request than bench.loadgen and shares
the caller's process, so its throughputs are those of a loaded machine."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.loadgen import percentile

Call = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


def pct(values: list[float], q: float) -> float:
    return percentile(values, q)


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


def report(title: str, n: int, latencies: list[float], elapsed: float) -> None:
    ms = [x * 1000 for x in latencies]
    print(title)
    print(f"  throughput   {n / elapsed:8.1f} req/s  ({elapsed:.1f} s)")
    print(f"  latency p50  {statistics.median(ms):8.1f} ms")
    print(f"  latency p99  {pct(ms, 0.99):8.1f} ms")
