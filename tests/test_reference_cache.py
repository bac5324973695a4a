"""Units, procedures and the calendar are cached in each intake process: a change is refused or
applied at once by the replica that made it, and by every other replica as soon as the catalogue
topic tells it, long before the cache's TTL would."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.infra import free_port
from services.processes import ServiceProcess
from services.stack import Stack
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body
from tests.test_catalogue import procedure

# The second replica keeps its caches this long unless told otherwise: any change it sees within
# the test's bound was told by the catalogue topic.
REPLICA_TTL_S = 600
# How long a change may take to reach the other replica: the outbox relay, the broker and one
# listener poll, on a loaded two-core machine.
PROPAGATION_BOUND_S = 15.0


@pytest.fixture(scope="module")
def replica(stack: Stack) -> Iterator[str]:
    """A second intake process on the same database and broker, consuming nothing (the stack's
    intake owns the consumer group's work) and with caches that outlive the test."""
    first = stack.processes["intake"]
    port = free_port()
    env = {
        **first.env,
        "INTAKE_HTTP_PORT": str(port),
        "INTAKE_CONSUMERS_ENABLED": "false",
        "INTAKE_REFERENCE_CACHE_TTL_S": str(REPLICA_TTL_S),
        "INTAKE_CALENDAR_CACHE_TTL_S": str(REPLICA_TTL_S),
    }
    log_file = first.log_file.with_name("intake-replica.log") if first.log_file else None
    process = ServiceProcess(first.spec, port, env, log_file)
    process.start()
    try:
        process.wait_ready(60)
        yield process.url
    finally:
        process.stop()


async def _until(check: Any, what: str) -> float:
    """Poll ``check`` until it is true; the seconds it took, or a failure past the bound."""
    began = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - began
        if time.monotonic() - began > PROPAGATION_BOUND_S:
            pytest.fail(f"{what} not seen within {PROPAGATION_BOUND_S} s")
        await asyncio.sleep(0.1)


async def test_a_procedure_changed_through_one_replica_is_seen_by_the_other(
    http: httpx.AsyncClient, stack: Stack, replica: str, tokens: Tokens
) -> None:
    first = stack.url("intake")
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    created = await http.post(f"{first}/v1/procedures", json=procedure(key), headers=tokens.ops())
    assert created.status_code == 201, created.text
    desk = tokens.receptionist()
    # The replica caches the procedure as it is now.
    r = await http.post(f"{replica}/v1/dossiers", json=dossier_body(key), headers=desk)
    assert r.status_code == 201, r.text
    assert r.json()["fee_amount_vnd"] == 20000

    changed = await http.put(
        f"{first}/v1/procedures/{key}",
        json=procedure(key, fee=50000),
        headers={**tokens.ops(), "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text

    async def new_fee() -> bool:
        r = await http.post(f"{replica}/v1/dossiers", json=dossier_body(key), headers=desk)
        assert r.status_code == 201, r.text
        return bool(r.json()["fee_amount_vnd"] == 50000)

    assert await _until(new_fee, "the new fee") < PROPAGATION_BOUND_S

    retired = await http.post(f"{first}/v1/procedures/{key}/retire", headers=tokens.ops())
    assert retired.status_code == 200, retired.text

    async def refused() -> bool:
        r = await http.post(f"{replica}/v1/dossiers", json=dossier_body(key), headers=desk)
        if r.status_code == 201:
            return False
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith("unknown-procedure")
        return True

    await _until(refused, "the retirement")


async def test_a_calendar_change_through_one_replica_moves_the_other_replicas_deadlines(
    http: httpx.AsyncClient, stack: Stack, replica: str, tokens: Tokens
) -> None:
    first = stack.url("intake")
    # A year no other test counts in: Monday 3 March 2031, one working day → Tuesday the 4th.
    query = {"from": "2031-03-03T09:00:00+07:00", "working_days": "1"}

    async def due() -> str:
        r = await http.get(f"{replica}/v1/calendar/deadline", params=query)
        assert r.status_code == 200, r.text
        return str(r.json()["appointment_date"])

    assert await due() == "2031-03-04"
    day = f"{first}/v1/calendar/2031/days/2031-03-04"
    put = await http.put(
        day, json={"kind": "holiday", "name": "Ngày nghỉ thử nghiệm"}, headers=tokens.ops()
    )
    assert put.status_code == 200, put.text
    try:

        async def moved() -> bool:
            return await due() == "2031-03-05"

        await _until(moved, "the new holiday")
    finally:
        assert (await http.delete(day, headers=tokens.ops())).status_code == 200


async def _new_ward(http: httpx.AsyncClient, base: str, tokens: Tokens) -> str:
    """A ward under Hoàn Kiếm, which Hoàn Kiếm's desk covers."""
    for _ in range(20):
        code = f"{random.randint(0, 99999):05d}"
        r = await http.post(
            f"{base}/v1/units",
            json={
                "code": code,
                "name": "Tổ dân phố thử nghiệm",
                "level": "commune",
                "parent_code": HOAN_KIEM,
            },
            headers=tokens.ops(),
        )
        if r.status_code == 201:
            return code
        assert r.status_code == 409, r.text
    pytest.fail("no free unit code")


async def test_a_retired_procedure_or_unit_is_refused_at_once_by_the_replica_that_retired_it(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    base = stack.url("intake")
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    r = await http.post(f"{base}/v1/procedures", json=procedure(key), headers=tokens.ops())
    assert r.status_code == 201, r.text
    ward = await _new_ward(http, base, tokens)
    desk = tokens.receptionist()
    # Both cached by this replica's first submission to them.
    r = await http.post(f"{base}/v1/dossiers", json=dossier_body(key, ward), headers=desk)
    assert r.status_code == 201, r.text
    assert r.json()["unit_path"] == f"{HANOI}.{HOAN_KIEM}.{ward}"

    r = await http.post(f"{base}/v1/procedures/{key}/retire", headers=tokens.ops())
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/v1/dossiers", json=dossier_body(key, ward), headers=desk)
    assert r.status_code == 422 and r.json()["type"].endswith("unknown-procedure"), r.text

    r = await http.post(f"{base}/v1/units/{ward}/retire", headers=tokens.ops())
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/v1/dossiers", json=dossier_body(unit_code=ward), headers=desk)
    assert r.status_code == 422 and r.json()["type"].endswith("unknown-unit"), r.text


async def test_a_replica_that_has_not_heard_of_a_retirement_still_refuses_at_once(
    http: httpx.AsyncClient, stack: Stack, replica: str, tokens: Tokens
) -> None:
    """Units publish no catalogue event, and a procedure's may not have arrived yet: the
    submission's statement itself refuses a unit or procedure retired since the replica cached
    it, and writes nothing."""
    base = stack.url("intake")
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    r = await http.post(f"{base}/v1/procedures", json=procedure(key), headers=tokens.ops())
    assert r.status_code == 201, r.text
    ward = await _new_ward(http, base, tokens)
    other_ward = await _new_ward(http, base, tokens)
    desk = tokens.receptionist()
    # The replica caches both wards and the procedure (its TTL outlives the test).
    for unit in (ward, other_ward):
        r = await http.post(f"{replica}/v1/dossiers", json=dossier_body(key, unit), headers=desk)
        assert r.status_code == 201, r.text

    r = await http.post(f"{base}/v1/units/{ward}/retire", headers=tokens.ops())
    assert r.status_code == 200, r.text
    r = await http.post(f"{replica}/v1/dossiers", json=dossier_body(key, ward), headers=desk)
    assert r.status_code == 422 and r.json()["type"].endswith("unknown-unit"), r.text

    r = await http.post(f"{base}/v1/procedures/{key}/retire", headers=tokens.ops())
    assert r.status_code == 200, r.text
    r = await http.post(f"{replica}/v1/dossiers", json=dossier_body(key, other_ward), headers=desk)
    assert r.status_code == 422 and r.json()["type"].endswith("unknown-procedure"), r.text

    # Nothing of either refusal was written: each ward holds its one earlier dossier.
    listing = await http.get(f"{base}/v1/dossiers", params={"limit": 200}, headers=desk)
    assert listing.status_code == 200
    held = [d["unit_code"] for d in listing.json()["items"] if d["procedure_key"] == key]
    assert sorted(held) == sorted([ward, other_ward])
