"""Catalogue administration over HTTP: versioned procedures published on the compacted topic,
units and agencies retired without losing history."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.stack import Infrastructure, Stack
from shared.db.engine import asyncpg_dsn
from shared.events import topics
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body

PROBLEM = "application/problem+json"


def procedure(key: str, days: float = 5, fee: int = 20000) -> dict[str, Any]:
    return {
        "key": key,
        "code": "1.009999",
        "name": "Thủ tục thử nghiệm cấp giấy xác nhận",
        "field": "Thử nghiệm",
        "level": "commune",
        "online": "full",
        "processing": {"working_days": days},
        "fees": [{"name": "Lệ phí", "amount_vnd": fee}],
        "components": ["Tờ khai", "Bản sao giấy tờ tùy thân"],
        "result": "Giấy xác nhận",
    }


@pytest.fixture
def base(stack: Stack) -> str:
    return f"{stack.url('intake')}/v1"


async def catalogue_messages(bootstrap: str, topic: str, key: str) -> list[dict[str, Any]]:
    """Every message with ``key`` on the catalogue topic, read from the start of each partition
    without a consumer group (no join round trip)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        for _ in range(50):
            if partitions:
                break
            await consumer.client.force_metadata_update()  # type: ignore[attr-defined]
            partitions = consumer.partitions_for_topic(topic)
            await asyncio.sleep(0.1)
        assigned = [TopicPartition(topic, p) for p in partitions or ()]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        found: list[dict[str, Any]] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found.extend(
                    orjson.loads(m.value) for m in records if m.key == key.encode() and m.value
                )
        return found
    finally:
        await consumer.stop()


async def test_procedure_versions_keep_received_dossiers_on_their_rules(
    http: httpx.AsyncClient,
    base: str,
    tokens: Tokens,
    infra: Infrastructure,
    namespace: str,
) -> None:
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    r = await http.post(f"{base}/procedures", json=procedure(key), headers=tokens.ops())
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"1"'

    desk = tokens.receptionist()
    first = await http.post(f"{base}/dossiers", json=dossier_body(key), headers=desk)
    assert first.status_code == 201, first.text
    assert first.json()["fee_amount_vnd"] == 20000

    changed = procedure(key, days=10, fee=50000)
    stale = await http.put(
        f"{base}/procedures/{key}", json=changed, headers={**tokens.ops(), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    r = await http.put(
        f"{base}/procedures/{key}", json=changed, headers={**tokens.ops(), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2

    second = await http.post(f"{base}/dossiers", json=dossier_body(key), headers=desk)
    assert second.json()["fee_amount_vnd"] == 50000
    # The first dossier was received under version 1: 5 working days, not 10.
    old = (await http.get(f"{base}/dossiers/{first.json()['code']}", headers=desk)).json()
    new = (await http.get(f"{base}/dossiers/{second.json()['code']}", headers=desk)).json()
    assert old["appointment_at"] < new["appointment_at"]

    v1 = (await http.get(f"{base}/procedures/{key}/versions/1")).json()
    assert v1["data"]["processing"]["working_days"] == 5
    current = await http.get(f"{base}/procedures/{key}")
    assert current.json()["version"] == 2 and current.headers["ETag"] == '"2"'

    async def both_versions() -> list[dict[str, Any]]:
        return await catalogue_messages(
            infra.bootstrap_servers, f"{namespace}{topics.CATALOGUE}", key
        )

    for _ in range(100):
        messages = await both_versions()
        if len(messages) >= 2:
            break
        await asyncio.sleep(0.2)
    assert [m["version"] for m in messages] == [1, 2]
    assert messages[-1]["processing_working_days"] == 10


async def test_catalogue_changes_need_the_ops_role_and_valid_bodies(
    http: httpx.AsyncClient, base: str, tokens: Tokens
) -> None:
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    r = await http.post(f"{base}/procedures", json=procedure(key), headers=tokens.receptionist())
    assert r.status_code == 403
    bad = procedure(key)
    bad["processing"] = {"working_days": -1}
    r = await http.post(f"{base}/procedures", json=bad, headers=tokens.ops())
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert (await http.get(f"{base}/procedures/{key}")).status_code == 404

    assert (
        await http.post(f"{base}/procedures", json=procedure(key), headers=tokens.ops())
    ).status_code == 201
    again = await http.post(f"{base}/procedures", json=procedure(key), headers=tokens.ops())
    assert again.status_code == 409
    no_match = await http.put(f"{base}/procedures/{key}", json=procedure(key), headers=tokens.ops())
    assert no_match.status_code == 428
    other = procedure(key)
    other["key"] = "khac-han"
    r = await http.put(
        f"{base}/procedures/{key}", json=other, headers={**tokens.ops(), "If-Match": '"1"'}
    )
    assert r.status_code == 422


async def test_units_and_agencies_are_retired_not_deleted(
    http: httpx.AsyncClient, base: str, tokens: Tokens
) -> None:
    code = str(90000 + uuid.uuid4().int % 9999)
    unit = {"code": code, "name": "Phường Thử Nghiệm", "level": "commune", "parent_code": "01"}
    r = await http.post(f"{base}/units", json=unit, headers=tokens.ops())
    assert r.status_code == 201, r.text
    assert r.json()["path"] == f"01.{code}"

    agency = {
        "code": f"motcua-{code}",
        "name": "Bộ phận Một cửa phường Thử Nghiệm",
        "kind": "one_stop_desk",
        "unit_code": code,
    }
    assert (
        await http.post(f"{base}/agencies", json=agency, headers=tokens.ops())
    ).status_code == 201
    listed = await http.get(f"{base}/agencies", params={"unit_code": code})
    assert [a["code"] for a in listed.json()["items"]] == [agency["code"]]

    assert (await http.post(f"{base}/units/01/retire", headers=tokens.ops())).status_code == 409
    assert (
        await http.post(f"{base}/agencies/{agency['code']}/retire", headers=tokens.ops())
    ).status_code == 200
    assert (await http.get(f"{base}/agencies", params={"unit_code": code})).json()["items"] == []
    retired = await http.post(f"{base}/units/{code}/retire", headers=tokens.ops())
    assert retired.status_code == 200 and retired.json()["retired_at"]

    children = (await http.get(f"{base}/units", params={"parent_code": "01"})).json()["items"]
    assert code not in {u["code"] for u in children}
    with_retired = await http.get(
        f"{base}/units", params={"parent_code": "01", "include_retired": "true"}
    )
    assert code in {u["code"] for u in with_retired.json()["items"]}

    # A retired unit takes no new dossiers and no new agencies.
    r = await http.post(
        f"{base}/dossiers",
        json=dossier_body(unit_code=code),
        headers=tokens.receptionist(code, f"01.{code}"),
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    agency["code"] = f"tuphap-{code}"
    assert (
        await http.post(f"{base}/agencies", json=agency, headers=tokens.ops())
    ).status_code == 422
    assert (await http.post(f"{base}/units", json=unit, headers=tokens.ops())).status_code == 409
    assert HOAN_KIEM in {u["code"] for u in children}


async def test_a_retired_procedure_takes_no_new_dossiers_but_keeps_its_history(
    http: httpx.AsyncClient, base: str, tokens: Tokens, infra: Infrastructure, namespace: str
) -> None:
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    assert (
        await http.post(f"{base}/procedures", json=procedure(key), headers=tokens.ops())
    ).status_code == 201
    desk = tokens.receptionist()
    before = await http.post(f"{base}/dossiers", json=dossier_body(key), headers=desk)
    assert before.status_code == 201

    assert (
        await http.post(f"{base}/procedures/{key}/retire", headers=tokens.receptionist())
    ).status_code == 403
    r = await http.post(f"{base}/procedures/{key}/retire", headers=tokens.ops())
    assert r.status_code == 200 and r.json()["retired_at"]

    after = await http.post(f"{base}/dossiers", json=dossier_body(key), headers=desk)
    assert after.status_code == 422 and after.headers["content-type"] == PROBLEM
    assert key not in {p["key"] for p in (await http.get(f"{base}/procedures")).json()["items"]}
    listed = await http.get(f"{base}/procedures", params={"include_retired": "true"})
    assert key in {p["key"] for p in listed.json()["items"]}
    assert (await http.get(f"{base}/procedures/{key}/versions/1")).status_code == 200
    old = await http.get(f"{base}/dossiers/{before.json()['code']}", headers=desk)
    assert old.status_code == 200

    for _ in range(100):
        messages = await catalogue_messages(
            infra.bootstrap_servers, f"{namespace}{topics.CATALOGUE}", key
        )
        if len(messages) >= 2:
            break
        await asyncio.sleep(0.2)
    assert [m.get("retired", False) for m in messages] == [False, True]


async def agency_events(database_url: str, code: str) -> list[dict[str, Any]]:
    """The agency's events in intake's outbox, oldest first."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_type, topic, payload FROM intake.outbox WHERE key = $1 ORDER BY id",
            f"agency-{code}",
        )
    finally:
        await conn.close()
    return [
        {"type": r["event_type"], "topic": r["topic"], **orjson.loads(r["payload"])} for r in rows
    ]


async def test_renaming_an_agency_publishes_it_and_shows_the_new_name(
    http: httpx.AsyncClient, base: str, tokens: Tokens, database_url: str, namespace: str
) -> None:
    code = f"vpdkdd-thu-nghiem-{uuid.uuid4().hex[:8]}"
    agency = {
        "code": code,
        "name": "Chi nhánh Văn phòng đăng ký đất đai Hoàn Kiếm",
        "kind": "land_registration_office",
        "unit_code": HOAN_KIEM,
    }
    r = await http.post(f"{base}/agencies", json=agency, headers=tokens.ops())
    assert r.status_code == 201, r.text

    new_name = "Chi nhánh Văn phòng Đăng ký đất đai quận Hoàn Kiếm"
    r = await http.patch(
        f"{base}/agencies/{code}", json={"name": new_name}, headers=tokens.receptionist()
    )
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    r = await http.patch(f"{base}/agencies/{code}", json={"name": new_name}, headers=tokens.ops())
    assert r.status_code == 200, r.text
    assert r.json()["name"] == new_name and r.json()["kind"] == "land_registration_office"
    read = await http.get(f"{base}/agencies/{code}")
    assert read.json()["name"] == new_name

    events = await agency_events(database_url, code)
    assert [e["type"] for e in events] == ["vn.motcua.agency.changed.v1"] * 2
    assert {e["topic"] for e in events} == {f"{namespace}{topics.CATALOGUE}"}
    created, renamed = events
    assert created["name"] == agency["name"] and renamed["name"] == new_name
    assert renamed["agency_code"] == code and renamed["unit_code"] == HOAN_KIEM
    assert renamed["unit_path"] == f"{HANOI}.{HOAN_KIEM}" and renamed["retired"] is False

    assert (
        await http.post(f"{base}/agencies/{code}/retire", headers=tokens.ops())
    ).status_code == 200
    retired = (await agency_events(database_url, code))[-1]
    assert retired["retired"] is True and retired["name"] == new_name


@pytest.mark.parametrize(
    ("code", "body", "status"),
    [
        ("khong-co-co-quan-nay", {"name": "Văn phòng Đăng ký đất đai"}, 404),
        ("ttphcc-01", {"name": "x"}, 422),
        ("ttphcc-01", {"name": "   "}, 422),
        ("ttphcc-01", {}, 422),
        ("ttphcc-01", {"name": "Trung tâm Phục vụ hành chính công", "kind": "police"}, 422),
    ],
)
async def test_a_bad_rename_is_a_problem_and_changes_nothing(
    http: httpx.AsyncClient,
    base: str,
    tokens: Tokens,
    code: str,
    body: dict[str, Any],
    status: int,
) -> None:
    before = (await http.get(f"{base}/agencies/ttphcc-01")).json()
    r = await http.patch(f"{base}/agencies/{code}", json=body, headers=tokens.ops())
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert (await http.get(f"{base}/agencies/ttphcc-01")).json() == before


async def test_lists_are_pages_followed_by_their_cursor(http: httpx.AsyncClient, base: str) -> None:
    first = (await http.get(f"{base}/agencies", params={"unit_code": HANOI, "limit": 2})).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await http.get(
            f"{base}/agencies",
            params={"unit_code": HANOI, "limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    codes = [a["code"] for a in first["items"] + second["items"]]
    assert codes == sorted(set(codes)) and len(codes) == 4
    everything = (await http.get(f"{base}/agencies", params={"unit_code": HANOI})).json()
    assert [a["code"] for a in everything["items"]][:4] == codes

    units = (await http.get(f"{base}/units", params={"limit": 5})).json()
    rest = (await http.get(f"{base}/units", params={"cursor": units["next_cursor"]})).json()
    provinces = [u["code"] for u in units["items"] + rest["items"]]
    assert provinces == sorted(provinces) and HANOI in provinces and rest["next_cursor"] is None

    page = (await http.get(f"{base}/procedures", params={"limit": 1})).json()
    after = (await http.get(f"{base}/procedures", params={"cursor": page["next_cursor"]})).json()
    keys = [p["key"] for p in page["items"] + after["items"]]
    assert "dang-ky-khai-sinh" in keys and keys == sorted(keys)
    bad = await http.get(f"{base}/procedures", params={"cursor": "không-phải-con-trỏ"})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert [e["field"] for e in bad.json()["errors"]] == ["query.cursor"]
