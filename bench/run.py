"""Benchmark: intake's submission against the floor, the sustained whole-pipeline rate, the
submit → counted lag, and the CPU each process spends per dossier.

Prints numbers; never fails on time. ``make bench`` or ``python -m bench.run``.
Uses the configured PostgreSQL/broker, or private ones (the embedded PostgreSQL is durable), and
a database and topics of its own. The dossiers table is first filled with ``--preload``
historical dossiers, so the numbers are those of a desk with years of records behind it.

1. Closed loop at ``--connections`` (32): the reference endpoint (bench.floor: same body, same
   token check, one transaction of two inserts), intake's desk POST (received on the spot),
   postal POST (awaiting check) and reception with If-Match, side by side with intake/floor;
   then the desk POST at one connection. ``--runs N`` repeats these N times, interleaved, and
   prints the median of each figure with its min–max.
2. Open loop of desk POSTs at fixed rates (``--step`` seconds each): first ``--lag-rate``
   (200/s) on a quiet system, for the submit → counted lag at that rate; then the sustained-rate
   search over ``--rates``, up from the lag rate if the pipeline kept up there, else up from the
   lowest rate, until a rate falls behind; then a geometric bisection between the last rate
   that kept up and the first that fell behind, to within 15 % (at most three steps). A rate
   keeps up when intake answers every request, metrics counts every dossier soon after the step
   and the lag does not grow over the step.
3. CPU ms per dossier of every process (medians over the runs), and PostgreSQL's transactions
   committed and rows inserted or updated per schema per dossier, for the closed-loop floor and
   desk runs and the highest rate that kept up.
4. With ``--profile DIR`` and py-spy installed, each service recorded during the first desk
   closed-loop run and the lag-rate open-loop step, and its top functions by own time.

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
from pathlib import Path
from typing import TypeVar

import asyncpg
import orjson

from bench import cpu, profile
from bench.loadgen import Generator, Job, Result, encode_request, percentile
from bench.pgstats import Counts, PgStats
from bench.report import Spread, bracket, next_rate, table
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
# Seconds of no load over which the stack's background commits are counted.
IDLE_WINDOW = 10.0


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


@dataclass
class Measured:
    result: Result
    cpu: dict[str, float]  # CPU seconds of each process over the window
    window: float  # seconds from the first request to the end of ``after``
    pg_before: Counts | None = None
    pg: Counts | None = None  # PostgreSQL's counters over the window, once ``settle``d

    def settle(self, pg: PgStats) -> None:
        """Read PostgreSQL's counters for the window (waiting for them to arrive)."""
        if self.pg_before is not None and self.pg is None:
            self.pg = pg.read().minus(self.pg_before)


def measure(
    job: Job,
    roots: Mapping[str, int | None],
    after: Callable[[Result], object] | None = None,
    pg: PgStats | None = None,
    profile_dir: Path | None = None,
    window_name: str = "",
) -> Measured:
    """Run ``job`` in the load generator, accounting every process's CPU from the first request
    until the last answer, or until ``after`` (given the result) returns. With ``pg``, the
    PostgreSQL counters at the start are read too (``Measured.settle`` reads the end); with
    ``profile_dir``, the services are recorded over the window as ``window_name``."""
    pg_before = pg.read() if pg is not None else None
    services = {name: roots.get(name) for name in profile.SERVICES}
    with Generator(job) as gen:
        tracked = {**roots, "load generator": gen.pid}
        with profile.recording(profile_dir, window_name, services):
            before, t0 = cpu.snapshot(tracked), time.perf_counter()
            machine = cpu.machine_busy()
            gen.go()
            result = gen.wait()
            if after is not None:
                after(result)
            spent = cpu.delta(before, cpu.snapshot(tracked))
            window = time.perf_counter() - t0
            machine = cpu.machine_busy() - machine
    if pg is not None:
        pg.ended()
    # Whatever else ran on the machine meanwhile (this script, the kernel, other programs):
    # it took cores from the measured processes, so it is shown beside them.
    spent[REST] = max(0.0, machine - sum(spent.values()))
    if result.errors:
        print(f"  ! {result.errors} requests failed: {result.first_error}")
    return Measured(result, spent, window, pg_before)


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


def print_side_by_side(
    rows: list[tuple[str, list[Figures]]], floor: list[Figures], connections: int
) -> None:
    """One row per endpoint: the median of each figure over the runs, with min–max when there
    was more than one; the share of the floor is taken run by run (the same round's floor)."""
    print(f"\n== closed loop, {connections} connections, same generator ==")
    body = []
    for title, runs in rows:
        shares = [100 * f.rate / fl.rate for f, fl in zip(runs, floor, strict=True) if fl.rate]
        body.append(
            [
                title,
                Spread.of([f.rate for f in runs]).show(),
                Spread.of([f.p50 for f in runs]).show(),
                Spread.of([f.p99 for f in runs]).show(),
                Spread.of(shares).show(unit="%") if shares else "-",
            ]
        )
    for line in table(["endpoint", "req/s", "p50 ms", "p99 ms", "vs floor"], body):
        print(line)
    for title, runs in rows:
        if other := sum(f.other for f in runs):
            print(f"    ({title}: {other} answers not the expected status, or failed)")


Column = tuple[str, list[tuple[Measured, int]]]  # title; (window, dossiers) of each run


def _per_dossier(runs: list[tuple[Measured, int]], value: Callable[[Measured], float]) -> str:
    values = [value(m) / n for m, n in runs if n]
    return Spread.of(values).show(2) if values else "-"


def _cpu_ms(name: str) -> Callable[[Measured], float]:
    return lambda m: 1000 * m.cpu.get(name, 0.0)


def _rows_of(schema: str) -> Callable[[Measured], float]:
    return lambda m: m.pg.rows.get(schema, 0) if m.pg is not None else 0.0


def print_cpu(columns: list[Column]) -> None:
    """CPU ms per dossier (per request) of each process, one column per kind of window: the
    median over its runs, with min–max when there was more than one."""
    print("\n== CPU ms per dossier, by process (from /proc utime+stime over each window) ==")
    names = [k for k in columns[0][1][0][0].cpu if k != REST]

    def ours(m: Measured) -> float:
        return sum(v for k, v in m.cpu.items() if k != REST)

    def busy(runs: list[tuple[Measured, int]], value: Callable[[Measured], float]) -> str:
        return Spread.of([value(m) / m.window for m, _ in runs]).show(2)

    rows = [
        [
            name,
            *(_per_dossier(runs, _cpu_ms(name)) for _, runs in columns),
        ]
        for name in names
    ]
    rows.append(["all", *(_per_dossier(runs, lambda m: 1000 * ours(m)) for _, runs in columns)])
    rows.append(
        [REST, *(_per_dossier(runs, lambda m: 1000 * m.cpu.get(REST, 0.0)) for _, runs in columns)]
    )
    rows.append(["(cores busy, all)", *(busy(runs, ours) for _, runs in columns)])
    rows.append(
        ["(cores busy, rest)", *(busy(runs, lambda m: m.cpu.get(REST, 0.0)) for _, runs in columns)]
    )
    for line in table(["process", *(title for title, _ in columns)], rows):
        print(line)


def print_pg(columns: list[Column]) -> None:
    """PostgreSQL transactions committed and rows inserted + updated per schema, per dossier."""
    print(
        "\n== PostgreSQL per dossier (pg_stat_database.xact_commit; pg_stat_user_tables "
        "n_tup_ins + n_tup_upd, by schema) =="
    )
    have = [(t, [(m, n) for m, n in runs if m.pg is not None]) for t, runs in columns]
    if not any(runs for _, runs in have):
        print("  (no counters read)")
        return
    schemas = sorted(
        {
            s
            for _, runs in have
            for m, _ in runs
            for s, v in (m.pg.rows if m.pg else {}).items()
            if v
        }
    )

    def pg(m: Measured) -> Counts:
        assert m.pg is not None
        return m.pg

    rows = [
        ["transactions committed", *(_per_dossier(r, lambda m: pg(m).commits) for _, r in have)]
    ]
    for schema in schemas:
        rows.append(
            [
                f"rows ins+upd, {schema}",
                *(_per_dossier(r, _rows_of(schema)) for _, r in have),
            ]
        )
    rows.append(
        [
            "rows ins+upd, all",
            *(_per_dossier(r, lambda m: sum(pg(m).rows.values())) for _, r in have),
        ]
    )
    for line in table(["counter", *(title for title, _ in have)], rows):
        print(line)


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
    bench: BenchStack,
    roots: Mapping[str, int | None],
    rate: float,
    seconds: float,
    pin: bool,
    pg: PgStats | None = None,
    profile_dir: Path | None = None,
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

    m = measure(job, roots, until_counted, pg, profile_dir, f"open-{rate:.0f}")
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
    pg, n = step.measured.pg, step.http.ok
    if pg is not None and n:
        print(
            f"  {'':20}  PostgreSQL per dossier: {pg.commits / n:.2f} transactions committed, "
            f"{sum(pg.rows.values()) / n:.2f} rows inserted or updated"
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
    parser.add_argument(
        "--runs", type=int, default=1, help="rounds of the closed-loop runs; medians are printed"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the services with py-spy (desk closed loop, lag-rate open loop) into DIR",
    )
    args = parser.parse_args()
    c, pin, runs = args.connections, not args.no_pin, max(1, args.runs)
    profile_dir: Path | None = args.profile
    if profile_dir is not None:
        exe = profile.py_spy()
        if exe is None:
            print("py-spy is not installed (pip install py-spy): measuring without profiles")
            profile_dir = None
        else:
            profile_dir = profile_dir.resolve()
            print(f"profiling with {exe} into {profile_dir}")

    with bench_stack() as bench:
        url, token = bench.database_url, bench.token
        intake = bench.stack.url("intake")
        pg = PgStats(url)
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
            print(
                f"{before} dossiers in the table; {c} connections; generator pinned: {pin}; "
                f"{runs} round(s) of closed-loop runs"
            )

            def closed(
                base: str,
                requests: list[bytes],
                conns: int,
                keep: bool = False,
                counters: bool = False,
                window: str = "",
            ) -> Measured:
                job = Job(base, requests, "closed", conns, duration=args.seconds, keep_bodies=keep)
                job.pin = pin
                # The window lasts until the consumers have done with the run's events too.
                m = measure(
                    job,
                    roots,
                    lambda _: wait_quiet(roots),
                    pg if counters else None,
                    profile_dir if window else None,
                    window,
                )
                m.settle(pg)
                if not counters:
                    # What this window left pending must not fall into the next counted one.
                    pg.ended()
                return m

            # Warm up connections, caches and the floor's tables; not measured.
            closed(floor_url, dossier_posts(floor_url, token, 300, "direct"), 8)
            closed(intake, dossier_posts(intake, token, 100, "direct"), 8)
            pg.ended()
            # What the stack commits with no load at all (relays, timers, consumers polling),
            # which every window holds too: the floor of the per-dossier counters.
            idle_start = pg.read()
            time.sleep(IDLE_WINDOW)
            idle = pg.read().minus(idle_start)

            n = args.requests
            rounds: list[dict[str, Measured]] = []
            for i in range(runs):
                # Rounds are interleaved so that a slow spell of the machine touches every
                # endpoint alike; the profile is of the first round's desk run.
                r: dict[str, Measured] = {}
                r["floor"] = closed(
                    floor_url, dossier_posts(floor_url, token, n, "direct"), c, counters=True
                )
                r["desk"] = closed(
                    intake,
                    dossier_posts(intake, token, n, "direct"),
                    c,
                    counters=True,
                    window="desk-closed" if i == 0 else "",
                )
                r["postal"] = closed(intake, dossier_posts(intake, token, n, "postal"), c, True)
                r["receive"] = closed(intake, receptions(intake, token, r["postal"].result), c)
                r["one"] = closed(intake, dossier_posts(intake, token, 3000, "direct"), 1)
                rounds.append(r)

            def figs(key: str, expect: int = 201) -> list[Figures]:
                return [Figures.of(r[key].result, expect) for r in rounds]

            floor_f = figs("floor")
            print_side_by_side(
                [
                    ("floor: bare endpoint (reference)", floor_f),
                    ("intake desk POST /v1/dossiers (received)", figs("desk")),
                    ("intake postal POST (awaiting check)", figs("postal")),
                    ("intake POST …/receive with If-Match", figs("receive", 200)),
                ],
                floor_f,
                c,
            )

            print("\n== desk POST at one connection ==")
            one = figs("one")
            print(
                f"  {Spread.of([f.rate for f in one]).show()} req/s   "
                f"p50 {Spread.of([f.p50 for f in one]).show()} ms   "
                f"p99 {Spread.of([f.p99 for f in one]).show()} ms"
            )

            rates = sorted({float(r) for r in args.rates.split(",")})
            print(
                f"\n== open loop, desk POST, {args.step:.0f} s per rate: keeps up = every request "
                f"answered 201, every dossier counted by metrics within {GRACE:.0f} s of the "
                f"step's end, lag in the last fifth ≤ {LAG_GROWTH_LIMIT:.0f} s above the first "
                "fifth; after the first rate that falls behind, a geometric bisection =="
            )
            steps: list[Step] = []
            verdicts: dict[float, bool] = {}
            while (rate := next_rate(rates, args.lag_rate, verdicts)) is not None:
                step = open_loop_step(
                    bench,
                    roots,
                    rate,
                    args.step,
                    pin,
                    pg,
                    profile_dir if rate == args.lag_rate else None,
                )
                steps.append(step)
                verdicts[rate] = step.kept_up
                # A step that fell behind leaves a backlog; the next one starts without it.
                if not wait_quiet(roots, timeout=30 if step.kept_up else 90):
                    print("    (the system was still busy when the next step began)")
                # Only a step that kept up can be the sustained one whose counters are shown;
                # the wait for them is spared after the others.
                if step.kept_up:
                    step.measured.settle(pg)
                else:
                    step.measured.pg_before = None
                print_step(step)
            kept = [s for s in steps if s.kept_up]
            best = max(kept, key=lambda s: s.rate) if kept else None
            at_lag = next(s for s in steps if s.rate == args.lag_rate)
            lag_ms = [x * 1000 for x in at_lag.lags] or [0.0]

        print("\n== summary ==")
        lowest = min(steps, key=lambda s: s.rate)
        edge = bracket(verdicts)
        if best is None:
            sustained_text = f"below {lowest.rate:.0f}/s (the lowest rate tried)"
        elif edge is None:
            sustained_text = f"at least {best.rate:.0f}/s (the highest rate tried)"
        else:
            sustained_text = f"{edge[0]:.0f}/s (falls behind at {edge[1]:.0f}/s)"
        print(f"  sustained whole-pipeline desk rate: {sustained_text}")
        print(
            f"  submit -> counted by metrics at {args.lag_rate:.0f}/s: p50 "
            f"{statistics.median(lag_ms):.1f} ms, p99 {percentile(lag_ms, 0.99):.1f} ms"
            f"{'' if at_lag.kept_up else ' (falls behind at this rate)'}"
        )
        sustained = best or lowest
        columns: list[Column] = [
            (
                f"floor, {c} conns",
                [(r["floor"], Figures.of(r["floor"].result, 201).ok) for r in rounds],
            ),
            (
                f"desk, {c} conns",
                [(r["desk"], Figures.of(r["desk"].result, 201).ok) for r in rounds],
            ),
            (
                f"desk {sustained.rate:.0f}/s"
                + (" to counted" if sustained.kept_up else " (behind)"),
                [(sustained.measured, sustained.http.ok)],
            ),
        ]
        print_cpu(columns)
        print(
            "  (a closed-loop window lasts until the system is quiet again, an open-loop one until "
            "metrics has counted the step's last dossier; 'all' is the processes above, without "
            "the rest of the machine"
            + (f"; medians over {runs} rounds, min–max in brackets" if runs > 1 else "")
            + ")"
        )
        print_pg(columns)
        print(
            f"  (with no load the stack commits {idle.commits / IDLE_WINDOW:.1f} transactions/s "
            f"and writes {sum(idle.rows.values()) / IDLE_WINDOW:.1f} rows/s, in every window "
            "too; counters read 11 s after each window, when the backends have reported them)"
        )
        if profile_dir is not None:
            for window, what in (
                ("desk-closed", f"desk POST closed loop at {c} connections"),
                (f"open-{args.lag_rate:.0f}", f"desk POST open loop at {args.lag_rate:.0f}/s"),
            ):
                print(f"\n== profile: top functions by own time, {what} ==")
                print(
                    "  (py-spy, leaf frames; a leaf 'run (asyncio/runners.py)' is time in uvloop's "
                    "native loop: socket I/O and callback scheduling)"
                )
                profile.print_profiles(profile_dir, window)


if __name__ == "__main__":
    main()
