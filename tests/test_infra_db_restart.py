"""PostgreSQL restarts under a running service: what a client sees.

Intake runs on a PostgreSQL cluster of this test's own, which the test stops and starts on the
same port. Pooled connections are not pinged on checkout; what can be promised instead:

- a request that starts once PostgreSQL is back succeeds: the connections the server closed
  are noticed at checkout (the driver saw the socket close) and replaced, with no round trip;
- a request made while PostgreSQL is away, or whose transaction it cut, answers 503
  problem+json with Retry-After, never 500;
- the service itself stays up, and serves the dossiers written before and after.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from services import database
from services.infra import EmbeddedPostgres
from services.stack import Infrastructure, Stack, free_ports
from tests.conftest import TEST_DATA
from tests.support import Tokens, dossier_body

PROBLEM_JSON = "application/problem+json"


@dataclass
class Restartable:
    postgres: EmbeddedPostgres
    stack: Stack

    @property
    def intake(self) -> str:
        return self.stack.url("intake")


@pytest.fixture(scope="module")
def restartable(infra: Infrastructure) -> Iterator[Restartable]:
    run = uuid.uuid4().hex[:8]
    postgres = EmbeddedPostgres(TEST_DATA / f"pg-restart-{run}" / "postgres", durable=False)
    postgres.start()
    stack: Stack | None = None
    try:
        url = database.create_database(postgres.url, "motcua_restart")
        database.prepare(url)
        stack = Stack(
            url,
            infra.bootstrap_servers,
            keys_dir=TEST_DATA / "keys",
            ports=free_ports(),
            log_dir=TEST_DATA / "logs-pg-restart",
            extra_env={"TOPIC_NAMESPACE": f"pgrestart{run}.", "LOG_JSON": "true"},
        )
        stack.start(["intake"])
        yield Restartable(postgres, stack)
    finally:
        if stack is not None:
            stack.stop()
        postgres.stop()
        shutil.rmtree(postgres.data_dir.parent, ignore_errors=True)


async def submit(http: httpx.AsyncClient, url: str, officer: dict[str, str]) -> httpx.Response:
    return await http.post(f"{url}/v1/dossiers", json=dossier_body(), headers=officer)


def assert_database_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(r.headers["Retry-After"]) > 0
    body = r.json()
    assert body["type"].endswith("/database-unavailable") and body["status"] == 503
    assert body["title_vi"] and body["request_id"]


async def test_requests_after_a_postgres_restart_all_succeed(
    http: httpx.AsyncClient, restartable: Restartable, tokens: Tokens
) -> None:
    officer = tokens.receptionist()
    # Several connections in the pool, all of which the restart will close.
    warm = await asyncio.gather(*(submit(http, restartable.intake, officer) for _ in range(12)))
    assert {r.status_code for r in warm} == {201}, [r.text for r in warm if r.status_code != 201]

    await asyncio.to_thread(restartable.postgres.stop)
    await asyncio.to_thread(restartable.postgres.start)

    after = await asyncio.gather(*(submit(http, restartable.intake, officer) for _ in range(12)))
    assert [r.status_code for r in after] == [201] * 12, [r.text for r in after]
    reads = await asyncio.gather(
        *(
            http.get(f"{restartable.intake}/v1/dossiers/{r.json()['code']}", headers=officer)
            for r in warm + after
        )
    )
    assert {r.status_code for r in reads} == {200}
    assert restartable.stack.processes["intake"].alive()


@dataclass
class Outcome:
    started: float
    response: httpx.Response


async def test_during_a_postgres_outage_requests_answer_503_and_recover_when_it_is_back(
    http: httpx.AsyncClient, restartable: Restartable, tokens: Tokens
) -> None:
    officer = tokens.receptionist()
    outcomes: list[Outcome] = []
    stop_load = asyncio.Event()

    async def worker() -> None:
        while not stop_load.is_set():
            started = time.monotonic()
            outcomes.append(Outcome(started, await submit(http, restartable.intake, officer)))
            await asyncio.sleep(0.02)

    load = [asyncio.create_task(worker()) for _ in range(4)]
    try:
        await asyncio.sleep(1)
        await asyncio.to_thread(restartable.postgres.stop)
        await asyncio.sleep(1.5)  # requests keep coming while nothing listens
        await asyncio.to_thread(restartable.postgres.start)
        back = time.monotonic()
        await asyncio.sleep(2)
    finally:
        stop_load.set()
        await asyncio.gather(*load)

    statuses = [o.response.status_code for o in outcomes]
    assert set(statuses) <= {201, 503}, [
        o.response.text for o in outcomes if o.response.status_code not in (201, 503)
    ]
    unavailable = [o.response for o in outcomes if o.response.status_code == 503]
    assert unavailable, "no request met the outage"
    for r in unavailable:
        assert_database_unavailable(r)
    # Every request that began once PostgreSQL was back succeeded.
    after = [o.response for o in outcomes if o.started >= back]
    assert len(after) >= 4
    assert [r.status_code for r in after] == [201] * len(after), [r.text for r in after]
    assert restartable.stack.processes["intake"].alive()

    # While it is away, reads answer the same way; once it is back they are served.
    await asyncio.to_thread(restartable.postgres.stop)
    try:
        code = after[0].json()["code"]
        read = await http.get(f"{restartable.intake}/v1/dossiers/{code}", headers=officer)
        assert_database_unavailable(read)
    finally:
        await asyncio.to_thread(restartable.postgres.start)
    read = await http.get(f"{restartable.intake}/v1/dossiers/{code}", headers=officer)
    assert read.status_code == 200 and read.json()["code"] == code
