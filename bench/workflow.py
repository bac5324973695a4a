"""Benchmark: officers' actions on cases over HTTP, and how late deadline timers fire under a
large backlog of future ones.

Prints numbers; never fails on time. ``make bench`` or
``python -m bench.workflow --cases 300 --concurrency 16 --timers 100000 --due 2000``.
Uses the configured PostgreSQL/broker, or private ones, and a database and topics of its own.

1. Cases are opened the real way (desk submission at intake, workflow consuming the receipt),
   then each case's first step is claimed and completed over HTTP with ``If-Match``.
2. The timers table is filled with ``--timers`` future timers (their cases and steps too),
   then ``--due`` timers falling due over the next few seconds are added; the running workflow
   process fires them and the lag ``fired_at - due_at`` is reported, with the lag the bench
   itself observes (the first poll that sees the timer fired, so after commit).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time

import asyncpg
import httpx

from bench.httpload import load, pct, report
from bench.stack import bench_stack
from shared.auth import mint_token
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM, dossier_body

# Đăng ký biến động đất đai (chuyển nhượng): a route of several agencies, so the first step
# can be completed and the case passed on.
LAND = "dang-ky-bien-dong-chuyen-nhuong-dat"
WARD_PATH = f"{HANOI}.{HOAN_KIEM}"


async def wait_for_route(database_url: str, procedure_key: str, timeout: float = 60) -> None:
    """Intake publishes the catalogue at start; cases opened before the route arrives would
    fall back to a one-step route."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await conn.fetchval(
                "SELECT 1 FROM workflow.route_templates WHERE procedure_key = $1", procedure_key
            ):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"workflow has no route for {procedure_key} after {timeout} s")
    finally:
        await conn.close()


async def open_cases(
    intake: str, token: str, database_url: str, n: int, concurrency: int
) -> tuple[list[tuple[str, int]], float]:
    """Submit ``n`` dossiers at the desk and wait until workflow opened a case for each;
    returns (case id, version) pairs and the seconds from the first POST to the last case."""
    began = time.perf_counter()
    dossier_ids, latencies, elapsed = await submit_land(intake, token, n, concurrency)
    report(f"desk submission of {n} land dossiers (POST /v1/dossiers)", n, latencies, elapsed)
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows: list[asyncpg.Record] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                "SELECT id::text AS id, version FROM workflow.cases "
                "WHERE dossier_id = ANY($1::uuid[])",
                list(dossier_ids),
            )
            if len(rows) == n:
                break
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    if len(rows) < n:
        raise RuntimeError(f"only {len(rows)}/{n} cases opened within 120 s")
    return [(r["id"], r["version"]) for r in rows], time.perf_counter() - began


async def submit_land(
    intake: str, token: str, n: int, concurrency: int
) -> tuple[set[str], list[float], float]:
    """Dossier ids of ``n`` land dossiers received at the desk, with the request latencies."""
    ids: set[str] = set()

    async def post(http: httpx.AsyncClient, _: int) -> httpx.Response:
        r = await http.post("/v1/dossiers", json=dossier_body(LAND))
        if r.status_code == 201:
            ids.add(r.json()["id"])
        return r

    _, latencies, elapsed = await load(intake, token, n, concurrency, post, 201)
    return ids, latencies, elapsed


async def claim_and_complete(
    workflow: str, token: str, cases: list[tuple[str, int]], concurrency: int
) -> tuple[list[float], list[float], float]:
    """Each worker takes a case, claims its step and completes it (two requests in order)."""
    claims: list[float] = []
    completes: list[float] = []
    todo = iter(cases)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=workflow, headers=headers, limits=limits, timeout=60
    ) as http:

        async def act(case_id: str, action: str, etag: str, into: list[float]) -> str:
            t0 = time.perf_counter()
            r = await http.post(f"/v1/cases/{case_id}/{action}", headers={"If-Match": etag})
            into.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"{action} {case_id}: {r.status_code}: {r.text}")
            return r.headers["ETag"]

        async def worker() -> None:
            for case_id, version in todo:
                etag = await act(case_id, "claim", f'"{version}"', claims)
                await act(case_id, "complete", etag, completes)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return claims, completes, elapsed


# One temporary table of ids feeds the cases, their steps and their timers, so the three
# inserts agree without a round trip per row. Counts are formatted in as integers: utility
# statements (CREATE TABLE AS) take no bind parameters.
SEED_IDS_SQL = """
CREATE TEMP TABLE bench_ids ON COMMIT DROP AS
SELECT g, gen_random_uuid() AS case_id, gen_random_uuid() AS step_id,
       {due} AS due_at
FROM generate_series(1, {n}) AS g
"""
SEED_CASES_SQL = """
INSERT INTO workflow.cases (id, dossier_id, dossier_code, procedure_code, unit_code, unit_path,
    status, opened_at, due_at, version, procedure_key, processing_working_days, received_at,
    current_step_id)
SELECT case_id, gen_random_uuid(), $1 || lpad(g::text, 9, '0'), '1.004227', $2, $3, 'open',
    now(), due_at, 1, $4, 10, now(), step_id
FROM bench_ids
"""
SEED_STEPS_SQL = """
INSERT INTO workflow.steps (id, case_id, seq, name, agency_kind, agency_code, role, unit_path,
    status, share, started_at, due_at)
SELECT step_id, case_id, 1, 'receive', 'one_stop_shop', 'motcua-' || $1, 'receptionist', $2,
    'waiting', 0.1, now(), due_at
FROM bench_ids
"""
# The case's own deadline, and (for the backlog) the step's as well: two timers per open case.
SEED_TIMERS_SQL = """
INSERT INTO workflow.timers (case_id, step_id, kind, due_at, suspended)
SELECT case_id, CASE WHEN k.kind = 'step_due' THEN step_id END, k.kind, due_at, false
FROM bench_ids CROSS JOIN (VALUES {kinds}) AS k(kind)
RETURNING id
"""


async def seed(
    conn: asyncpg.Connection, prefix: str, n: int, due_sql: str, kinds: tuple[str, ...]
) -> list[int]:
    async with conn.transaction():
        await conn.execute(SEED_IDS_SQL.format(due=due_sql, n=int(n)))
        await conn.execute(SEED_CASES_SQL, prefix, HOAN_KIEM, WARD_PATH, LAND)
        await conn.execute(SEED_STEPS_SQL, HOAN_KIEM, WARD_PATH)
        values = ", ".join(f"('{k}')" for k in kinds)
        rows = await conn.fetch(SEED_TIMERS_SQL.format(kinds=values))
    return [r["id"] for r in rows]


async def pending(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM workflow.timers WHERE fired_at IS NULL"))


async def timer_lag(
    database_url: str, backlog: int, due: int, window_s: float, lead_s: float
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        t0 = time.perf_counter()
        # Future deadlines spread over the coming 1–60 days, as a busy province would hold.
        future = "now() + make_interval(days => 1 + g % 60, mins => g % 600)"
        await seed(conn, "BENCHF", backlog // 2, future, ("case_due", "step_due"))
        await conn.execute("ANALYZE workflow.timers")
        await conn.execute("ANALYZE workflow.cases")
        await conn.execute("ANALYZE workflow.steps")
        print(f"inserted {backlog // 2 * 2} future timers in {time.perf_counter() - t0:.1f} s")

        # ``due`` case deadlines falling due between ``lead_s`` and ``lead_s + window_s`` from now,
        # one per case, so each firing also writes a case.overdue event to the outbox.
        start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead_s)
        step = window_s / max(due, 1)
        soon = f"'{start.isoformat()}'::timestamptz + make_interval(secs => g * {step:.9f})"
        ids = await seed(conn, "BENCHD", due, soon, ("case_due",))
        print(f"pending timers in the table: {await pending(conn)} (of which {len(ids)} due soon)")

        seen: dict[int, float] = {}
        lag_fired: dict[int, float] = {}
        deadline = time.monotonic() + lead_s + window_s + 120
        while len(seen) < len(ids) and time.monotonic() < deadline:
            now = dt.datetime.now(dt.UTC)
            rows = await conn.fetch(
                "SELECT id, due_at, fired_at FROM workflow.timers "
                "WHERE id = ANY($1::bigint[]) AND fired_at IS NOT NULL",
                [i for i in ids if i not in seen],
            )
            for r in rows:
                seen[r["id"]] = (now - r["due_at"]).total_seconds()
                lag_fired[r["id"]] = (r["fired_at"] - r["due_at"]).total_seconds()
            await asyncio.sleep(0.05)
        events = await conn.fetchval(
            "SELECT count(*) FROM workflow.outbox WHERE event_type = 'vn.motcua.case.overdue.v1'"
        )
        left = await pending(conn)
    finally:
        await conn.close()

    print(f"timer firing with {backlog // 2 * 2} future timers: {len(seen)}/{len(ids)} fired")
    for title, values in (
        ("fired_at - due_at (the round's instant)", list(lag_fired.values())),
        ("observed fired - due_at (after commit)", list(seen.values())),
    ):
        if values:
            ms = [v * 1000 for v in values]
            print(f"  {title}")
            print(f"    p50  {statistics.median(ms):8.1f} ms")
            print(f"    p99  {pct(ms, 0.99):8.1f} ms")
            print(f"    max  {max(ms):8.1f} ms")
    print(f"  case.overdue events in the outbox: {events}")
    print(f"  pending timers left in the table: {left}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timers", type=int, default=100_000, help="future timers to hold")
    parser.add_argument("--due", type=int, default=2_000, help="timers falling due soon")
    parser.add_argument("--window", type=float, default=5.0, help="seconds the due ones span")
    parser.add_argument("--lead", type=float, default=3.0, help="seconds before the first is due")
    args = parser.parse_args()

    with bench_stack() as bench:
        stack, url = bench.stack, bench.database_url
        # The desk officer works the first step only as a member of the ward's one-stop desk.
        token = mint_token(
            stack.private_key_file.read_bytes(),
            sub="bench",
            roles=["receptionist"],
            unit=HOAN_KIEM,
            unit_path=WARD_PATH,
            agency=f"motcua-{HOAN_KIEM}",
        )
        intake, workflow = stack.url("intake"), stack.url("workflow")
        asyncio.run(wait_for_route(url, LAND))
        n, c = args.cases, args.concurrency

        # Warm up connections and caches; not measured.
        warm, _ = asyncio.run(open_cases(intake, token, url, 20, 4))
        asyncio.run(claim_and_complete(workflow, token, warm, 4))
        print(f"--- {n} cases, concurrency {c}")
        opened, open_s = asyncio.run(open_cases(intake, token, url, n, c))
        print(f"  {n} cases open {open_s:.1f} s after the first submission")
        claims, completes, elapsed = asyncio.run(claim_and_complete(workflow, token, opened, c))
        report(
            f"claim + complete over HTTP with If-Match: {2 * n} actions on {n} cases",
            2 * n,
            claims + completes,
            elapsed,
        )
        for title, values in (("claim", claims), ("complete", completes)):
            ms = [v * 1000 for v in values]
            print(f"  {title:9} p50 {statistics.median(ms):7.1f} ms   p99 {pct(ms, 0.99):7.1f} ms")

        print(f"--- timers: {args.timers} in the future, {args.due} due over {args.window} s")
        asyncio.run(timer_lag(url, args.timers, args.due, args.window, args.lead))


if __name__ == "__main__":
    main()
