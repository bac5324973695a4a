"""The stack a benchmark runs against: the configured PostgreSQL and broker, or private ones,
with a database and topics of its own that are dropped afterwards, and a desk officer's token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services import database
from services.infra import free_port
from services.stack import Infrastructure, Stack, free_ports
from shared.auth import mint_token
from tests.support import HANOI, HOAN_KIEM

DATA = Path(".data") / "bench"


@dataclass(frozen=True)
class BenchStack:
    stack: Stack
    database_url: str
    token: str
    infra: Infrastructure


@contextmanager
def bench_stack(roles: list[str] | None = None) -> Iterator[BenchStack]:
    infra = Infrastructure.from_environment(DATA)
    stack: Stack | None = None
    name = f"motcua_bench_{uuid.uuid4().hex[:6]}"
    try:
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
            roles=roles or ["receptionist"],
            unit=HOAN_KIEM,
            unit_path=f"{HANOI}.{HOAN_KIEM}",
        )
        yield BenchStack(stack, url, token, infra)
    finally:
        if stack is not None:
            stack.stop()
        database.drop_database(infra.server_url, name)
        infra.stop()


@contextmanager
def floor_process(database_url: str, public_key_file: Path) -> Iterator[tuple[str, int]]:
    """The reference endpoint (bench.floor) as one uvicorn worker on uvloop and httptools, like
    each service; yields its URL and pid."""
    port = free_port()
    log = (DATA / "logs" / "floor.log").open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.floor:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={
            **os.environ,
            "FLOOR_DATABASE_URL": database_url,
            "FLOOR_PUBLIC_KEY_FILE": str(public_key_file.resolve()),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        # uvicorn listens only once the lifespan (schema, pool) has started.
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the floor endpoint exited ({proc.returncode}); see floor.log")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the floor endpoint did not listen within 30 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
