"""A lean HTTP/1.1 keep-alive load generator that runs in a process of its own.

Requests are encoded before the timed run (every body unique), responses are parsed only as
far as the status line and Content-Length, and the event loop is uvloop's when installed. Two
shapes of load:

- closed loop: ``connections`` connections, each sending its next request as soon as the last
  answer arrived (throughput and latency at a concurrency);
- open loop: requests sent on a fixed schedule of ``rate`` per second whatever the answers do,
  each on an idle connection or a new one, latency counted from the scheduled time so a server
  that falls behind cannot hide it (lag at a fixed rate, and the sustained-rate search).

The process is pinned to one core (where there is more than one), so it never takes more than
that from the system it measures, and whoever runs it reads its CPU time from /proc like any
other process's. ``Generator`` starts it and hands it a job; ``python -m bench.loadgen JOB
RESULT`` is the process itself: it loads the job, says ``ready``, waits for ``go`` on stdin,
runs, writes the result and says ``done``, then waits for stdin to close before exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, Self, cast
from urllib.parse import urlsplit


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 ≤ q ≤ 1) of ``values``, which must not be empty."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


def parse_head(buf: bytes | bytearray) -> tuple[int, int, int] | None:
    """(status, content length, offset where the body begins) of the response at the start of
    ``buf``, or None while its head is incomplete.

    Only what a keep-alive client needs to find the next response: a body delimited by
    anything but Content-Length (chunked, or until close) is refused with ValueError.
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0]!r}")
    status = int(parts[1])
    length: int | None = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and value.strip().lower() != b"identity":
            raise ValueError(f"unsupported transfer-encoding {value.strip()!r}")
    if length is None:
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        else:
            raise ValueError(f"response {status} has no Content-Length")
    return status, length, end + 4


def encode_request(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of one keep-alive HTTP/1.1 request to ``url`` (scheme://host:port/path)."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Job:
    url: str  # scheme://host:port; requests name their own paths
    requests: list[bytes]
    mode: Literal["closed", "open"]
    connections: int = 32  # closed loop: the concurrency; open loop: at most this many open
    rate: float = 0.0  # open loop: requests per second
    duration: float = 10.0  # closed loop: stop sending after this many seconds
    keep_bodies: bool = False
    pin: bool = True


@dataclass
class Result:
    """One entry per request answered, in the order they were sent."""

    index: list[int] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)  # seconds
    sent_at: list[float] = field(default_factory=list)  # wall clock, time.time()
    bodies: list[bytes] = field(default_factory=list)
    elapsed: float = 0.0
    errors: int = 0
    first_error: str | None = None
    dropped: int = 0  # open loop: no connection free and the limit reached
    peak_connections: int = 0

    def failed(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message


class _Connection(asyncio.Protocol):
    def __init__(self, keep_bodies: bool) -> None:
        self._keep = keep_bodies
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not registered as asyncio.Transport subclasses.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            head = parse_head(self._buf)
        except ValueError as exc:
            waiter.set_exception(exc)
            return
        if head is None:
            return
        status, length, start = head
        end = start + length
        if len(self._buf) < end:
            return
        body = bytes(self._buf[start:end]) if self._keep else b""
        del self._buf[:end]
        self._waiter = None
        waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def _connect(host: str, port: int, keep_bodies: bool) -> _Connection:
    _, conn = await asyncio.get_running_loop().create_connection(
        lambda: _Connection(keep_bodies), host, port
    )
    return conn


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def closed_loop(job: Job) -> Result:
    host, port = _address(job.url)
    result = Result()
    conns = [await _connect(host, port, job.keep_bodies) for _ in range(job.connections)]
    result.peak_connections = len(conns)
    items = iter(range(len(job.requests)))
    clock = time.perf_counter

    async def worker(conn: _Connection, deadline: float) -> None:
        for i in items:
            if clock() > deadline:
                return
            sent_wall, t0 = time.time(), clock()
            try:
                status, body = await conn.request(job.requests[i])
            except (ConnectionError, ValueError) as exc:
                result.failed(str(exc))
                return
            result.latency.append(clock() - t0)
            result.index.append(i)
            result.status.append(status)
            result.sent_at.append(sent_wall)
            if job.keep_bodies:
                result.bodies.append(body)

    began = clock()
    await asyncio.gather(*(worker(c, began + job.duration) for c in conns))
    result.elapsed = clock() - began
    for conn in conns:
        conn.close()
    return result


async def open_loop(job: Job) -> Result:
    host, port = _address(job.url)
    loop = asyncio.get_running_loop()
    result = Result()
    # A few connections opened before the clock starts, so the first requests measure the
    # server, not the handshake; more are opened when the answers come back too slowly.
    idle: deque[_Connection] = deque()
    for _ in range(min(job.connections, max(4, int(job.rate / 50)))):
        idle.append(await _connect(host, port, job.keep_bodies))
    opened = len(idle)
    in_flight: set[asyncio.Task[None]] = set()

    async def one(i: int, scheduled: float) -> None:
        nonlocal opened
        while idle:
            conn = idle.pop()
            if not conn.closed:
                break
            opened -= 1
        else:
            if opened >= job.connections:
                result.dropped += 1
                return
            opened += 1
            result.peak_connections = max(result.peak_connections, opened)
            try:
                conn = await _connect(host, port, job.keep_bodies)
            except OSError as exc:
                opened -= 1
                result.failed(str(exc))
                return
        sent_wall = time.time()
        try:
            status, body = await conn.request(job.requests[i])
        except (ConnectionError, ValueError) as exc:
            opened -= 1
            conn.close()
            result.failed(str(exc))
            return
        result.latency.append(loop.time() - scheduled)
        result.index.append(i)
        result.status.append(status)
        result.sent_at.append(sent_wall)
        if job.keep_bodies:
            result.bodies.append(body)
        idle.append(conn)

    result.peak_connections = opened
    start = loop.time() + 0.05
    for i in range(len(job.requests)):
        scheduled = start + i / job.rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = loop.create_task(one(i, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        # An answer that never comes is an error, not a hang of the whole benchmark.
        _, late = await asyncio.wait(set(in_flight), timeout=60)
        for task in late:
            task.cancel()
            result.failed("no answer within 60 s")
    result.elapsed = loop.time() - start
    for conn in idle:
        conn.close()
    return result


def run_job(job: Job) -> Result:
    """Run ``job`` in this process, on uvloop when it is installed."""
    runner = closed_loop if job.mode == "closed" else open_loop
    try:
        import uvloop
    except ImportError:
        return asyncio.run(runner(job))
    return uvloop.run(runner(job))


def _pin_to_one_core() -> None:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:
        # The last core: the kernel tends to wake the servers' first threads on core 0.
        os.sched_setaffinity(0, {cores[-1]})


def _serve(job_file: Path, result_file: Path) -> None:
    job: Job = pickle.loads(job_file.read_bytes())
    if job.pin:
        _pin_to_one_core()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    result = run_job(job)
    result_file.write_bytes(pickle.dumps(result))
    print("done", flush=True)
    # Stay until told, so the caller reads this process's CPU time before it is gone.
    sys.stdin.read()


class Generator:
    """The load generator as a child process: ``start`` → ``go`` → ``wait`` → ``close``."""

    def __init__(self, job: Job) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-loadgen-")
        self._job_file = Path(self._dir.name) / "job.pickle"
        self._result_file = Path(self._dir.name) / "result.pickle"
        self._job_file.write_bytes(pickle.dumps(job))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", str(self._job_file), str(self._result_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._expect("ready")

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _expect(self, word: str) -> None:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"load generator said {line!r}, not {word!r}")

    def go(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write("go\n")
        self._proc.stdin.flush()

    def wait(self) -> Result:
        self._expect("done")
        result: Result = pickle.loads(self._result_file.read_bytes())
        return result

    def close(self) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._dir.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


if __name__ == "__main__":
    # Through the module's own name, so the pickled Result names bench.loadgen.Result and not
    # __main__.Result, which the caller could not unpickle.
    from bench import loadgen

    loadgen._serve(Path(sys.argv[1]), Path(sys.argv[2]))
