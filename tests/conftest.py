"""Session infrastructure for the suite: the configured PostgreSQL and broker, or private ones.

With ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` unset, a private PostgreSQL cluster and a
Kafka-protocol broker are started for the run. Either way the suite builds its own database with
the real migrations and namespaces its topics, so it never touches a developer's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services import database
from services.stack import Infrastructure, Stack, free_ports
from tests.support import Tokens

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / ".data" / "test"


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    # The suite's data is thrown away after the run: its private cluster may skip fsync.
    infra = Infrastructure.from_environment(TEST_DATA, durable=False)
    try:
        yield infra
    finally:
        infra.stop()


@pytest.fixture(scope="session")
def database_url(infra: Infrastructure) -> Iterator[str]:
    name = f"motcua_test_{os.getpid()}"
    url = database.create_database(infra.server_url, name, fresh=True)
    try:
        database.prepare(url)
        yield url
    finally:
        database.drop_database(infra.server_url, name)


@pytest.fixture(scope="session")
def stack(infra: Infrastructure, database_url: str) -> Iterator[Stack]:
    stack = Stack(
        database_url,
        infra.bootstrap_servers,
        keys_dir=TEST_DATA / "keys",
        ports=free_ports(),
        log_dir=TEST_DATA / "logs",
        extra_env={
            "TOPIC_NAMESPACE": f"test{uuid.uuid4().hex[:8]}.",
            "LOG_JSON": "true",
            # Access lines too, so tests/test_zz_logs_clean.py checks what they would keep.
            "HTTP_ACCESS_LOG": "true",
            # The tests call as the proxy in front would (X-Forwarded-For believed from here);
            # any other peer's header is ignored (tests/test_lookup.py, from 127.0.0.2).
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            # The payment tests watch a lost IPN being settled and a payment expiring: the
            # mop-up asks the gateway after seconds, not minutes, and the sandbox retries fast.
            "PAYMENT_MOPUP_AFTER_S": "2",
            "PAYMENT_MOPUP_INTERVAL_S": "0.5",
            "PAYMENT_MOPUP_BACKOFF_MAX_S": "4",
            "SANDBOX_IPN_RETRY_INTERVAL_S": "1",
        },
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def namespace(stack: Stack) -> str:
    return stack.extra_env["TOPIC_NAMESPACE"]


@pytest.fixture(scope="session")
def tokens(stack: Stack) -> Tokens:
    return Tokens(stack.private_key_file.read_bytes())


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
