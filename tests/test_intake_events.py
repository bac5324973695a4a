"""Intake's status view follows workflow through the broker: a received dossier goes into
processing when its case opens and is resolved when the case ends; redeliveries change nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from services.stack import Infrastructure, Stack
from shared.events import CaseApologised, CaseResolved, Event, topics
from shared.events.envelope import ce_headers, encode_data, wrap
from tests.support import Tokens, dossier_body, eventually


async def publish(bootstrap: str, namespace: str, event: Event) -> None:
    env = wrap(event, source="/workflow", subject=event.dossier_code)  # type: ignore[attr-defined]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            namespace + topics.CASES,
            key=env.key.encode(),
            value=encode_data(event),
            headers=[(k, v.encode()) for k, v in ce_headers(env).items()],
        )
    finally:
        await producer.stop()


async def in_status(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], status: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        r = await http.get(url, headers=headers)
        return r.json() if r.json()["status"] == status else None

    return await eventually(probe, interval=0.2)


async def test_case_events_move_the_dossier_to_resolved_then_the_desk_returns_it(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, infra: Infrastructure, namespace: str
) -> None:
    officer = tokens.receptionist()
    base = f"{stack.url('intake')}/v1/dossiers"
    r = await http.post(base, json=dossier_body(), headers=officer)
    assert r.status_code == 201, r.text
    url = f"{base}/{r.json()['code']}"
    processing = await in_status(http, url, officer, "in_processing")
    assert processing["case_id"]

    resolved = CaseResolved(
        case_id=uuid.uuid4(),
        dossier_id=processing["id"],
        dossier_code=processing["code"],
        unit_path=processing["unit_path"],
        outcome="rejected",
        reason="Không đủ điều kiện đăng ký thường trú tại chỗ ở hợp pháp",
        resolved_at=dt.datetime.now(dt.UTC),
        due_at=dt.datetime.fromisoformat(processing["appointment_at"]),
        result_digitised=True,
    )
    await publish(infra.bootstrap_servers, namespace, resolved)
    done = await in_status(http, url, officer, "resolved")
    last = done["history"][-1]
    assert (last["action"], last["to_status"]) == ("reject_after_examination", "resolved")
    assert last["note"] == resolved.reason

    # The same event again (a redelivery) changes nothing.
    await publish(infra.bootstrap_servers, namespace, resolved)
    marker = await http.post(base, json=dossier_body(), headers=officer)
    await in_status(http, f"{base}/{marker.json()['code']}", officer, "in_processing")
    again = (await http.get(url, headers=officer)).json()
    assert again["version"] == done["version"]
    assert len(again["history"]) == len(done["history"])

    etag = (await http.get(url, headers=officer)).headers["ETag"]
    r = await http.post(f"{url}/return-result", headers={**officer, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "returned"


async def test_an_apology_reschedules_the_dossier_without_changing_its_appointment(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, infra: Infrastructure, namespace: str
) -> None:
    officer = tokens.receptionist()
    base = f"{stack.url('intake')}/v1/dossiers"
    r = await http.post(base, json=dossier_body(), headers=officer)
    url = f"{base}/{r.json()['code']}"
    processing = await in_status(http, url, officer, "in_processing")
    due = dt.datetime.fromisoformat(processing["appointment_at"])
    apology = CaseApologised(
        case_id=processing["case_id"],
        dossier_id=processing["id"],
        dossier_code=processing["code"],
        unit_path=processing["unit_path"],
        apology_id=uuid.uuid4(),
        agency_code="congan-01",
        reason="Chờ kết quả xác minh nơi cư trú từ địa phương khác",
        due_at=due,
        new_appointment_at=due + dt.timedelta(days=7),
        overdue=False,
        issued_by="cb.congan.01",
        issued_at=dt.datetime.now(dt.UTC),
    )
    await publish(infra.bootstrap_servers, namespace, apology)

    async def rescheduled() -> dict[str, Any] | None:
        d = (await http.get(url, headers=officer)).json()
        return d if d["rescheduled_at"] else None

    d = await eventually(rescheduled)
    assert dt.datetime.fromisoformat(d["rescheduled_at"]) == apology.new_appointment_at
    assert d["appointment_at"] == processing["appointment_at"]
    assert d["status"] == "in_processing"
    assert d["history"][-1]["action"] == "apologise"

    # Redelivered: nothing changes.
    await publish(infra.bootstrap_servers, namespace, apology)
    marker = await http.post(base, json=dossier_body(), headers=officer)
    await in_status(http, f"{base}/{marker.json()['code']}", officer, "in_processing")
    again = (await http.get(url, headers=officer)).json()
    assert again["version"] == d["version"] and len(again["history"]) == len(d["history"])
