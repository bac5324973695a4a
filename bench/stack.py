"""The stack a benchmark runs against: the configured PostgreSQL and broker, or private ones,
with a database and topics of its own that are dropped afterwards, and a desk officer's token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services import database
from services.stack import Infrastructure, Stack, free_ports
from shared.auth import mint_token
from tests.support import HANOI, HOAN_KIEM

DATA = Path(".data") / "bench"


@dataclass(frozen=True)
class BenchStack:
    stack: Stack
    database_url: str
    token: str


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
        yield BenchStack(stack, url, token)
    finally:
        if stack is not None:
            stack.stop()
        database.drop_database(infra.server_url, name)
        infra.stop()
