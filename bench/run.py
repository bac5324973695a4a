"""Benchmark: intake's submission against the floor, the sustained whole-pipeline rate, the
submit → counted lag, and the CPU each process spends per dossier.

Prints numbers; never fails on time. ``make bench`` or ``python -m bench.run``.
Uses the configured PostgreSQL/broker, or private ones (the embedded PostgreSQL is durable), and
a database and topics of its own. The dossiers table is first filled with ``--preload``
historical dossiers, so the numbers are those of a desk with years of records behind it.

1. Closed loop at ``--connections`` (32): the reference endpoint (bench.floor: same body, same
   token check, one transaction of two inserts), intake's desk POST (received on the spot),
   postal POST (awaiting check) and reception with If-Match, side by side with intake/floor.
2. The desk POST at one connection.
3. Open loop of desk POSTs at fixed rates (``--step`` seconds each): first ``--lag-rate``
   (200/s) on a quiet system, for the submit → counted lag at that rate; then the sustained-rate
   search over ``--rates``, up from the lag rate if the pipeline kept up there, else up from the
   lowest rate, until a rate falls behind. A rate keeps up when intake answers every request,
   metrics counts every dossier soon after the step and the lag does not grow over the step.
   CPU ms per dossier of every process at the highest rate that kept up.

The load generator (bench.loadgen) is a process of its own, pinned to one core, and its CPU is
in the tables with everyone else's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import orjson

from bench import cpu
from bench.loadgen import Generator, Job, Result, encode_request, percentile
from bench.stack import BenchStack, bench_stack, floor_process
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM, dossier_body

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

T = TypeVar("T")

REST = "(rest of machine)"

# A step keeps up when the lag at its end is at most this much above the lag at its start.
LAG_GROWTH_LIMIT = 1.0
# Seconds after a step's last answer for metrics to count everything the step submitted.
GRACE = 10.0
# Open loop: a request with no idle connection opens a new one, up to this many; past that it is
# dropped (and the step falls behind), which bounds the backlog an overloaded intake is handed.
OPEN_LOOP_CONNECTIONS = 256


# --------------------------------------------------------------------------- database


async def _with_conn(database_url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await work(conn)
    finally:
        await conn.close()


def preload(database_url: str, n: int) -> int:
    async def work(conn: asyncpg.Connection) -> int:
        if n:
            await conn.execute(PRELOAD_SQL, HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}", n)
            await conn.execute("ANALYZE intake.dossiers")
        return int(await conn.fetchval("SELECT count(*) FROM intake.dossiers"))

    return asyncio.run(_with_conn(database_url, work))


COUNTED_SQL = (
    "SELECT dossier_id::text AS id, counted_at FROM metrics.dossier_facts "
    "WHERE counted_at IS NOT NULL AND dossier_id = ANY($1::uuid[])"
)


def counted(database_url: str, ids: list[str], wait: float) -> dict[str, float]:
    """Counted-at (epoch seconds) of those of ``ids`` metrics has counted, polling up to
    ``wait`` seconds for all of them."""

    async def work(conn: asyncpg.Connection) -> dict[str, float]:
        deadline = time.monotonic() + wait
        while True:
            rows = await conn.fetch(COUNTED_SQL, ids)
            if len(rows) == len(ids) or time.monotonic() > deadline:
                return {r["id"]: r["counted_at"].timestamp() for r in rows}
            await asyncio.sleep(0.2)

    return asyncio.run(_with_conn(database_url, work))


# --------------------------------------------------------------------------- processes


def process_roots(bench: BenchStack, floor_pid: int) -> dict[str, int | None]:
    """The root pid of each process whose CPU is accounted, by name."""
    stack, infra = bench.stack, bench.infra
    roots: dict[str, int | None] = {}
    for name in ("intake", "workflow", "payment", "metrics", "sandbox"):
        proc = stack.processes[name].proc
        roots[name] = proc.pid if proc is not None else None
    roots["floor"] = floor_pid

    # The postmaster, found from a backend of our own, whether the server is embedded or not:
    # its tree is every backend and the server's own processes.
    async def postmaster(conn: asyncpg.Connection) -> int | None:
        # Asked while the backend lives: it exits with the connection. A server on another
        # machine has no process here (or a pid that is someone else's: the name tells).
        pid = int(await conn.fetchval("SELECT pg_backend_pid()"))
        return cpu.parent(pid) if cpu.process_name(pid).startswith("postgres") else None

    roots["postgresql"] = asyncio.run(_with_conn(bench.database_url, postmaster))
    if infra.broker is not None:
        roots["broker"] = infra.broker.pid
    else:
        port = int(infra.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
        roots["broker"] = cpu.listening_pid(port)
    for name, pid in roots.items():
        if pid is None:
            print(f"  ({name}: no process found on this machine; its CPU is not accounted)")
    return roots


def wait_quiet(roots: Mapping[str, int | None], limit: float = 0.15, timeout: float = 30) -> bool:
    """Until the system burns less than ``limit`` of a core (the last run's events consumed);
    False if it still did after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    before = cpu.snapshot(roots)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = cpu.snapshot(roots)
        if sum(cpu.delta(before, after).values()) / 0.5 < limit:
            return True
        before = after
    return False


def next_rate(rates: list[float], lag_rate: float, verdicts: Mapping[float, bool]) -> float | None:
    """The next open-loop rate to try given the verdicts so far (rate → kept up), or None.

    The lag rate first, on a quiet system (it is the lag figure); then upward from it while the
    pipeline keeps up, or, when it fell behind there, upward from the lowest rate until one falls
    behind. Each search stops at its first failure: a step that falls behind leaves a backlog
    that would only slow the next.
    """
    if lag_rate not in verdicts:
        return lag_rate
    above = verdicts[lag_rate]
    for rate in sorted(rates):
        if (rate > lag_rate) if above else (rate < lag_rate):
            if rate not in verdicts:
                return rate
            if not verdicts[rate]:
                return None
    return None


@dataclass
class Measured:
    result: Result
    cpu: dict[str, float]  # CPU seconds of each process over the window
    window: float  # seconds from the first request to the end of ``after``


def measure(
    job: Job, roots: Mapping[str, int | None], after: Callable[[Result], object] | None = None
) -> Measured:
    """Run ``job`` in the load generator, accounting every process's CPU from the first request
    until the last answer, or until ``after`` (given the result) returns."""
    with Generator(job) as gen:
        tracked = {**roots, "load generator": gen.pid}
        before, t0 = cpu.snapshot(tracked), time.perf_counter()
        machine = cpu.machine_busy()
        gen.go()
        result = gen.wait()
        if after is not None:
            after(result)
        spent = cpu.delta(before, cpu.snapshot(tracked))
        window = time.perf_counter() - t0
        machine = cpu.machine_busy() - machine
    # Whatever else ran on the machine meanwhile (this script, the kernel, other programs):
    # it took cores from the measured processes, so it is shown beside them.
    spent[REST] = max(0.0, machine - sum(spent.values()))
    if result.errors:
        print(f"  ! {result.errors} requests failed: {result.first_error}")
    return Measured(result, spent, window)


# --------------------------------------------------------------------------- requests


def dossier_posts(base: str, token: str, n: int, channel: str) -> list[bytes]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return [
        encode_request(
            "POST", f"{base}/v1/dossiers", orjson.dumps(dossier_body(channel=channel)), headers
        )
        for _ in range(n)
    ]


def receptions(base: str, token: str, submitted: Result) -> list[bytes]:
    out = []
    for status, body in zip(submitted.status, submitted.bodies, strict=True):
        if status == 201:
            d = orjson.loads(body)
            headers = {"Authorization": f"Bearer {token}", "If-Match": f'"{d["version"]}"'}
            out.append(
                encode_request("POST", f"{base}/v1/dossiers/{d['code']}/receive", b"", headers)
            )
    return out


def created_ids(result: Result) -> list[str]:
    return [
        orjson.loads(body)["id"]
        for status, body in zip(result.status, result.bodies, strict=True)
        if status == 201
    ]


# --------------------------------------------------------------------------- reports


@dataclass
class Figures:
    rate: float
    p50: float  # ms
    p99: float  # ms
    ok: int
    other: int

    @classmethod
    def of(cls, result: Result, expect: int) -> Figures:
        ms = [x * 1000 for x in result.latency] or [0.0]
        ok = sum(1 for s in result.status if s == expect)
        return cls(
            ok / result.elapsed if result.elapsed else 0.0,
            statistics.median(ms),
            percentile(ms, 0.99),
            ok,
            len(result.status) - ok + result.errors,
        )


def print_side_by_side(rows: list[tuple[str, Figures]], floor: Figures, connections: int) -> None:
    print(f"\n== closed loop, {connections} connections, same generator ==")
    print(f"  {'endpoint':44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs floor':>9}")
    for title, f in rows:
        ratio = f"{100 * f.rate / floor.rate:8.1f}%" if floor.rate else "       -"
        print(f"  {title:44} {f.rate:8.1f} {f.p50:8.1f} {f.p99:8.1f} {ratio}")
        if f.other:
            print(f"    ({f.other} answers not the expected status, or failed)")


def print_cpu(columns: list[tuple[str, Measured, int]]) -> None:
    """CPU ms per dossier (per request) of each process, one column per run."""
    print("\n== CPU ms per dossier, by process (from /proc utime+stime over each window) ==")
    names = [k for k in columns[0][1].cpu if k != REST]
    head = "".join(f"{title:>22}" for title, _, _ in columns)
    print(f"  {'process':18}{head}")
    for name in names:
        cells = "".join(
            f"{1000 * m.cpu.get(name, 0.0) / n:22.2f}" if n else f"{'-':>22}" for _, m, n in columns
        )
        print(f"  {name:18}{cells}")

    def ours(m: Measured) -> float:
        return sum(v for k, v in m.cpu.items() if k != REST)

    totals = "".join(f"{1000 * ours(m) / n:22.2f}" if n else f"{'-':>22}" for _, m, n in columns)
    print(f"  {'all':18}{totals}")
    others = "".join(
        f"{1000 * m.cpu.get(REST, 0.0) / n:22.2f}" if n else f"{'-':>22}" for _, m, n in columns
    )
    print(f"  {REST:18}{others}")
    cores = "".join(f"{ours(m) / m.window:22.2f}" for _, m, _ in columns)
    print(f"  {'(cores busy, all)':18}{cores}")
    rest = "".join(f"{m.cpu.get(REST, 0.0) / m.window:22.2f}" for _, m, _ in columns)
    print(f"  {'(cores busy, rest)':18}{rest}")


@dataclass
class Step:
    rate: float
    sent: int
    http: Figures
    backlog_at_end: int
    lags: list[float]  # seconds, in send order
    missing: int
    measured: Measured

    @property
    def growth(self) -> float:
        if len(self.lags) < 10:
            return 0.0
        fifth = max(1, len(self.lags) // 5)
        return statistics.median(self.lags[-fifth:]) - statistics.median(self.lags[:fifth])

    @property
    def kept_up(self) -> bool:
        r = self.measured.result
        return (
            r.errors == 0
            and r.dropped == 0
            and self.http.other == 0
            and self.missing == 0
            and self.growth <= LAG_GROWTH_LIMIT
        )


def open_loop_step(
    bench: BenchStack, roots: Mapping[str, int | None], rate: float, seconds: float, pin: bool
) -> Step:
    intake = bench.stack.url("intake")
    requests = dossier_posts(intake, bench.token, int(rate * seconds), "direct")
    job = Job(
        intake,
        requests,
        "open",
        connections=OPEN_LOOP_CONNECTIONS,
        rate=rate,
        keep_bodies=True,
        pin=pin,
    )
    seen: dict[str, float] = {}
    backlog = 0

    def until_counted(result: Result) -> None:
        nonlocal backlog
        ids = created_ids(result)
        backlog = len(ids) - len(counted(bench.database_url, ids, 0))
        seen.update(counted(bench.database_url, ids, GRACE))

    m = measure(job, roots, until_counted)
    r = m.result
    ids = created_ids(r)
    sent = dict(
        zip(ids, [t for t, s in zip(r.sent_at, r.status, strict=True) if s == 201], strict=True)
    )
    lags = [seen[i] - sent[i] for i in ids if i in seen]
    return Step(rate, len(requests), Figures.of(r, 201), backlog, lags, len(ids) - len(lags), m)


def print_step(step: Step) -> None:
    r = step.measured.result
    lag_ms = [x * 1000 for x in step.lags] or [0.0]
    verdict = "keeps up" if step.kept_up else "FALLS BEHIND"
    print(
        f"  {step.rate:5.0f}/s  {verdict:12}  {step.sent} scheduled, {step.http.ok} answered 201, "
        f"{step.http.other} otherwise, {r.dropped} dropped (over {OPEN_LOOP_CONNECTIONS} in "
        f"flight); HTTP p50 {step.http.p50:.1f} ms, p99 {step.http.p99:.1f} ms"
    )
    print(
        f"  {'':20}  submit -> counted p50 {statistics.median(lag_ms):.1f} ms, p99 "
        f"{percentile(lag_ms, 0.99):.1f} ms, growth over the step {1000 * step.growth:.1f} ms; "
        f"not yet counted at the last answer {step.backlog_at_end}, after {GRACE:.0f} s "
        f"{step.missing}"
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="each closed-loop run")
    parser.add_argument(
        "--requests", type=int, default=15_000, help="bodies prepared per closed-loop run (a cap)"
    )
    parser.add_argument("--rates", default="25,50,100,200,400,800", help="open-loop steps, per s")
    parser.add_argument("--step", type=float, default=10.0, help="seconds of each open-loop step")
    parser.add_argument("--lag-rate", type=float, default=200.0, help="rate of the lag figure")
    parser.add_argument(
        "--preload", type=int, default=200_000, help="historical dossiers put in the table first"
    )
    parser.add_argument("--no-pin", action="store_true", help="let the generator use all cores")
    args = parser.parse_args()
    c, pin = args.connections, not args.no_pin

    with bench_stack() as bench:
        url, token = bench.database_url, bench.token
        intake = bench.stack.url("intake")
        t0 = time.perf_counter()
        before = preload(url, args.preload)
        print(f"preloaded {args.preload} historical dossiers in {time.perf_counter() - t0:.1f} s")
        settings = asyncio.run(
            _with_conn(
                url,
                lambda conn: conn.fetch(
                    "SELECT name, setting FROM pg_settings "
                    "WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit')"
                ),
            )
        )
        durable = all(r["setting"] == "on" for r in settings)
        print(
            "PostgreSQL: "
            + ", ".join(f"{r['name']}={r['setting']}" for r in settings)
            + ("" if durable else "  (NOT durable: these figures flatter production)")
        )
        with floor_process(url, bench.stack.public_key_file) as (floor_url, floor_pid):
            roots = process_roots(bench, floor_pid)
            print(f"{before} dossiers in the table; {c} connections; generator pinned: {pin}")

            def closed(
                base: str, requests: list[bytes], conns: int, keep: bool = False
            ) -> Measured:
                job = Job(base, requests, "closed", conns, duration=args.seconds, keep_bodies=keep)
                job.pin = pin
                # The window lasts until the consumers have done with the run's events too.
                return measure(job, roots, lambda _: wait_quiet(roots))

            # Warm up connections, caches and the floor's tables; not measured.
            closed(floor_url, dossier_posts(floor_url, token, 300, "direct"), 8)
            closed(intake, dossier_posts(intake, token, 100, "direct"), 8)

            n = args.requests
            floor = closed(floor_url, dossier_posts(floor_url, token, n, "direct"), c)
            desk = closed(intake, dossier_posts(intake, token, n, "direct"), c)
            postal = closed(intake, dossier_posts(intake, token, n, "postal"), c, keep=True)
            receive = closed(intake, receptions(intake, token, postal.result), c)
            floor_f = Figures.of(floor.result, 201)
            print_side_by_side(
                [
                    ("floor: bare endpoint (reference)", floor_f),
                    ("intake desk POST /v1/dossiers (received)", Figures.of(desk.result, 201)),
                    ("intake postal POST (awaiting check)", Figures.of(postal.result, 201)),
                    ("intake POST …/receive with If-Match", Figures.of(receive.result, 200)),
                ],
                floor_f,
                c,
            )

            one = closed(intake, dossier_posts(intake, token, 3000, "direct"), 1)
            f = Figures.of(one.result, 201)
            print("\n== desk POST at one connection ==")
            print(f"  {f.rate:8.1f} req/s   p50 {f.p50:7.1f} ms   p99 {f.p99:7.1f} ms")

            rates = sorted({float(r) for r in args.rates.split(",")})
            print(
                f"\n== open loop, desk POST, {args.step:.0f} s per rate: keeps up = every request "
                f"answered 201, every dossier counted by metrics within {GRACE:.0f} s of the "
                f"step's end, lag in the last fifth ≤ {LAG_GROWTH_LIMIT:.0f} s above the first "
                "fifth =="
            )
            steps: list[Step] = []
            verdicts: dict[float, bool] = {}
            while (rate := next_rate(rates, args.lag_rate, verdicts)) is not None:
                step = open_loop_step(bench, roots, rate, args.step, pin)
                print_step(step)
                steps.append(step)
                verdicts[rate] = step.kept_up
                # A step that fell behind leaves a backlog; the next one starts without it.
                if not wait_quiet(roots, timeout=30 if step.kept_up else 90):
                    print("    (the system was still busy when the next step began)")
            kept = [s for s in steps if s.kept_up]
            best = max(kept, key=lambda s: s.rate) if kept else None
            at_lag = next(s for s in steps if s.rate == args.lag_rate)
            lag_ms = [x * 1000 for x in at_lag.lags] or [0.0]

        print("\n== summary ==")
        lowest = min(steps, key=lambda s: s.rate)
        if best is None:
            sustained_text = f"below {lowest.rate:.0f}/s (the lowest rate tried)"
        elif best.rate == max(rates):
            sustained_text = f"at least {best.rate:.0f}/s (the highest rate tried)"
        else:
            sustained_text = f"{best.rate:.0f}/s"
        print(f"  sustained whole-pipeline desk rate: {sustained_text}")
        print(
            f"  submit -> counted by metrics at {args.lag_rate:.0f}/s: p50 "
            f"{statistics.median(lag_ms):.1f} ms, p99 {percentile(lag_ms, 0.99):.1f} ms"
            f"{'' if at_lag.kept_up else ' (falls behind at this rate)'}"
        )
        sustained = best or lowest
        print_cpu(
            [
                ("floor, 32 conns", floor, floor_f.ok),
                ("desk, 32 conns", desk, Figures.of(desk.result, 201).ok),
                (
                    f"desk {sustained.rate:.0f}/s"
                    + (", to counted" if sustained.kept_up else " (behind)"),
                    sustained.measured,
                    sustained.http.ok,
                ),
            ]
        )
        print(
            "  (a closed-loop window lasts until the system is quiet again, an open-loop one until "
            "metrics has counted the step's last dossier; 'all' is the processes above, without "
            "the rest of the machine)"
        )


if __name__ == "__main__":
    main()
