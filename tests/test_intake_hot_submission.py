"""The submission's one statement: the daily number in the code, the final state written at once,
the log and the events as the lifecycle would have written them step by step, and the races a
unique key decides."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg
import httpx
import orjson

from intake_service.domain.dossier_codes import _ALPHABET, dossier_tail
from intake_service.dossiers import repository
from services.stack import Stack
from shared.db.engine import asyncpg_dsn
from tests.support import Tokens, dossier_body
from tests.test_catalogue import procedure


async def test_the_code_the_statement_writes_is_the_code_of_the_daily_number(
    database_url: str,
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        day = dt.date(2026, 12, 4)
        for noise, seq in [(0, 1), (0xABCDEF, 5), (0xFFFFFF, 65535), (0x123456, 65536 + 7)]:
            prefix, low = repository.code_parts("00070", day, noise)
            written = await conn.fetchval(
                f"SELECT $1::text || {repository.TAIL_SQL} "
                "FROM (SELECT ($2::int << 16) | ($3::int & 65535) AS w) AS tail",
                prefix,
                low,
                seq,
            )
            assert written == f"00070-261204-{dossier_tail(seq, noise)}"
    finally:
        await conn.close()


async def _outbox(database_url: str, dossier_id: str) -> list[tuple[str, dict[str, str], dict]]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_type, headers::text AS headers, payload FROM intake.outbox "
            "WHERE key = $1 ORDER BY id",
            dossier_id,
        )
        return [
            (r["event_type"], orjson.loads(r["headers"]), orjson.loads(r["payload"])) for r in rows
        ]
    finally:
        await conn.close()


async def test_a_desk_submission_is_written_received_with_its_log_and_both_events(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    base = f"{stack.url('intake')}/v1/dossiers"
    desk = tokens.receptionist()
    r = await http.post(base, json=dossier_body(), headers=desk)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "received" and body["appointment_at"] and body["received_at"]
    # Submitted, then received: the two versions the lifecycle counts.
    assert r.headers["ETag"] == '"2"' and body["version"] == 2
    assert r.headers["Location"] == f"/v1/dossiers/{body['code']}"

    read = await http.get(f"{base}/{body['code']}", headers=desk)
    assert read.status_code == 200 and read.headers["ETag"] == '"2"'
    history = [(a["action"], a["from_status"], a["to_status"]) for a in read.json()["history"]]
    assert history == [("submit", None, "submitted"), ("receive", "submitted", "received")]
    assert dt.datetime.fromisoformat(read.json()["appointment_at"]) == dt.datetime.fromisoformat(
        body["appointment_at"]
    )

    events = await _outbox(database_url, body["id"])
    assert [e[0] for e in events] == [
        "vn.motcua.dossier.submitted.v1",
        "vn.motcua.dossier.received.v1",
    ]
    for _, headers, payload in events:
        assert headers["ce_subject"] == body["code"]
        assert payload["dossier_code"] == body["code"]
        assert payload["dossier_id"] == body["id"]
    received = events[1][2]
    assert received["applicant_name"] == "Nguyễn Thị Lan"
    assert received["fee_amount_vnd"] == body["fee_amount_vnd"]
    assert dt.datetime.fromisoformat(received["appointment_at"]) == dt.datetime.fromisoformat(
        body["appointment_at"]
    )
    assert received["applicant_ref"] and received["procedure_version"] == 1


async def test_a_citizens_consent_is_logged_in_the_submitted_status(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    base = f"{stack.url('intake')}/v1/dossiers"
    body = dossier_body(channel="online", document_reuse_consent=True)
    citizen = tokens.bearer(body["applicant"]["id_number"], ["applicant"])
    r = await http.post(base, json=body, headers=citizen)
    assert r.status_code == 201, r.text
    assert r.json()["document_reuse_consent"] is True and r.headers["ETag"] == '"1"'
    read = (await http.get(f"{base}/{r.json()['code']}", headers=citizen)).json()
    assert [(a["action"], a["to_status"]) for a in read["history"]] == [
        ("submit", "submitted"),
        ("reuse_consent_given", "submitted"),
    ]


async def test_concurrent_desk_submissions_take_distinct_daily_numbers(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    base = f"{stack.url('intake')}/v1/dossiers"
    desk = tokens.receptionist()
    answers = await asyncio.gather(
        *(http.post(base, json=dossier_body(), headers=desk) for _ in range(12))
    )
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    codes = [a.json()["code"] for a in answers]
    assert len(set(codes)) == len(codes)
    # The low 16 bits of the code are the daily number: twelve consecutive, distinct ones.
    numbers = sorted(_daily_number(c) for c in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 12))


def _daily_number(code: str) -> int:
    tail = code.rsplit("-", 1)[1]
    value = 0
    for char in tail:
        value = value * 32 + _ALPHABET.index(char)
    return value & 0xFFFF


async def test_a_retry_racing_its_first_attempt_gets_the_same_dossier(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    base = f"{stack.url('intake')}/v1/dossiers"
    headers = {**tokens.receptionist(), "Idempotency-Key": f"race-{uuid.uuid4()}"}
    body = dossier_body()
    answers = await asyncio.gather(*(http.post(base, json=body, headers=headers) for _ in range(8)))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len({a.json()["code"] for a in answers}) == 1
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM intake.dossiers WHERE applicant_id_number = $1",
            body["applicant"]["id_number"],
        )
    finally:
        await conn.close()
    assert count == 1


async def test_a_reception_is_written_at_the_next_version_with_its_event(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    base = f"{stack.url('intake')}/v1/dossiers"
    desk = tokens.receptionist()
    r = await http.post(base, json=dossier_body(channel="postal"), headers=desk)
    assert r.status_code == 201 and r.headers["ETag"] == '"1"', r.text
    code = r.json()["code"]
    received = await http.post(
        f"{base}/{code}/receive",
        json={"note": "Đủ thành phần"},
        headers={**desk, "If-Match": '"1"'},
    )
    assert received.status_code == 200, received.text
    assert received.headers["ETag"] == '"2"' and received.json()["status"] == "received"
    read = (await http.get(f"{base}/{code}", headers=desk)).json()
    assert read["version"] == 2 and read["received_at"]
    assert [(a["action"], a["note"]) for a in read["history"]] == [
        ("submit", None),
        ("receive", "Đủ thành phần"),
    ]
    events = await _outbox(database_url, r.json()["id"])
    assert [e[0] for e in events][-1] == "vn.motcua.dossier.received.v1"
    _, headers, payload = events[-1]
    assert headers["ce_subject"] == code and payload["dossier_code"] == code
    assert payload["channel"] == "postal" and payload["procedure_version"] == 1
    # A second reception of the same version is stale: the general path says so.
    again = await http.post(f"{base}/{code}/receive", headers={**desk, "If-Match": '"1"'})
    assert again.status_code == 412


async def test_a_dossier_received_after_its_procedure_changed_keeps_the_rules_it_was_submitted_under(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    first = stack.url("intake")
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    r = await http.post(f"{first}/v1/procedures", json=procedure(key), headers=tokens.ops())
    assert r.status_code == 201, r.text
    desk = tokens.receptionist()
    base = f"{first}/v1/dossiers"
    old = await http.post(base, json=dossier_body(key, channel="postal"), headers=desk)
    assert old.status_code == 201, old.text
    changed = await http.put(
        f"{first}/v1/procedures/{key}",
        json=procedure(key, days=10, fee=50000),
        headers={**tokens.ops(), "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    new = await http.post(base, json=dossier_body(key, channel="postal"), headers=desk)
    answers = [
        await http.post(f"{base}/{d.json()['code']}/receive", headers={**desk, "If-Match": '"1"'})
        for d in (old, new)
    ]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    # Received at (nearly) the same instant: five working days under version 1, ten under 2.
    due = [dt.datetime.fromisoformat(a.json()["appointment_at"]) for a in answers]
    assert due[0] < due[1]
    assert answers[0].json()["fee_amount_vnd"] == 20000
