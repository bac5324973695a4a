"""Integration API over HTTP: submission by external id (also concurrent), reading by it, and
the change feed with national status codes, paging and late commits."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from services.stack import Stack
from shared.db.engine import asyncpg_dsn
from tests.support import BA_DINH, HANOI, HOAN_KIEM, Tokens, dossier_body

PROBLEM = "application/problem+json"


class Lgsp:
    """The provincial integration platform, scoped to Hoàn Kiếm for these tests."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = stack.url("intake")
        self.tokens = tokens
        self.auth = tokens.bearer("lgsp-hanoi", ["integration"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}")

    async def submit(self, body: dict) -> httpx.Response:
        return await self.http.post(f"{self.base}/v1/dossiers", json=body, headers=self.auth)

    async def changes(self, after: str | None = None, limit: int = 100) -> dict:
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        r = await self.http.get(
            f"{self.base}/v1/integration/changes", params=params, headers=self.auth
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def end_of_feed(self) -> str:
        page = await self.changes(limit=500)
        while page["has_more"]:
            page = await self.changes(page["next_cursor"], limit=500)
        return page["next_cursor"]


@pytest.fixture
def lgsp(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Lgsp:
    return Lgsp(http, stack, tokens)


def external_body(**extra: object) -> dict:
    return dossier_body(channel="integration", external_id=f"HN-{uuid.uuid4().hex[:12]}", **extra)


async def count_by_external_id(database_url: str, external_id: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM intake.dossiers WHERE external_id = $1", external_id
        )
    finally:
        await conn.close()


async def test_repeat_by_external_id_returns_the_same_dossier(lgsp: Lgsp) -> None:
    body = external_body()
    first = await lgsp.submit(body)
    assert first.status_code == 201, first.text
    assert first.json()["source_system"] == "lgsp-hanoi"
    assert first.json()["external_id"] == body["external_id"]
    again = await lgsp.submit(body)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]


async def test_other_content_under_the_same_external_id_is_a_conflict(
    lgsp: Lgsp, database_url: str
) -> None:
    body = external_body()
    assert (await lgsp.submit(body)).status_code == 201
    changed = {**body, "applicant": {**body["applicant"], "name": "Trần Văn Bình"}}
    r = await lgsp.submit(changed)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("external-id-conflict") and r.json()["title_vi"]
    assert await count_by_external_id(database_url, body["external_id"]) == 1


async def test_the_same_external_id_from_another_source_system_is_another_dossier(
    lgsp: Lgsp,
) -> None:
    body = external_body()
    first = await lgsp.submit(body)
    other = await lgsp.submit({**body, "source_system": "buu-dien-hanoi"})
    assert (first.status_code, other.status_code) == (201, 201)
    assert first.json()["id"] != other.json()["id"]
    assert other.json()["source_system"] == "buu-dien-hanoi"


async def test_concurrent_repeats_create_exactly_one_dossier(lgsp: Lgsp, database_url: str) -> None:
    body = external_body()
    answers = await asyncio.gather(*(lgsp.submit(body) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count_by_external_id(database_url, body["external_id"]) == 1


async def test_read_a_dossier_by_external_id_within_scope(lgsp: Lgsp) -> None:
    body = external_body()
    created = (await lgsp.submit(body)).json()
    url = f"{lgsp.base}/v1/integration/dossiers/lgsp-hanoi/{body['external_id']}"
    r = await lgsp.http.get(url, headers=lgsp.auth)
    assert r.status_code == 200
    assert r.json()["code"] == created["code"]
    assert [h["action"] for h in r.json()["history"]] == ["submit"]
    other_unit = lgsp.tokens.bearer("lgsp-badinh", ["integration"], BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (await lgsp.http.get(url, headers=other_unit)).status_code == 404
    assert (await lgsp.http.get(url, headers=lgsp.tokens.receptionist())).status_code == 403
    missing = f"{lgsp.base}/v1/integration/dossiers/lgsp-hanoi/khong-co"
    assert (await lgsp.http.get(missing, headers=lgsp.auth)).status_code == 404


async def _submitted_and_received(lgsp: Lgsp) -> dict:
    created = await lgsp.submit(external_body())
    assert created.status_code == 201, created.text
    received = await lgsp.http.post(
        f"{lgsp.base}/v1/dossiers/{created.json()['code']}/receive",
        headers={**lgsp.tokens.receptionist(), "If-Match": created.headers["ETag"]},
    )
    assert received.status_code == 200, received.text
    return created.json()


def _mine(page: dict, codes: set[str]) -> list[tuple[str, str, int]]:
    """This test's desk actions; workflow's own "start_processing" arrives when it will."""
    return [
        (i["dossier_code"], i["action"], i["national_status_code"])
        for i in page["items"]
        if i["dossier_code"] in codes and i["action"] in ("submit", "receive")
    ]


async def test_feed_lists_changes_in_order_with_national_codes(lgsp: Lgsp) -> None:
    cursor = await lgsp.end_of_feed()
    first = await _submitted_and_received(lgsp)
    second = await _submitted_and_received(lgsp)
    page = await lgsp.changes(cursor)
    codes = {first["code"], second["code"]}
    assert _mine(page, codes) == [
        (first["code"], "submit", 1),
        (first["code"], "receive", 2),
        (second["code"], "submit", 1),
        (second["code"], "receive", 2),
    ]
    item = next(i for i in page["items"] if i["dossier_code"] == first["code"])
    assert item["external_id"] == first["external_id"]
    assert item["source_system"] == "lgsp-hanoi"
    assert item["status"] == "submitted" and item["national_status_name"] == "Mới đăng ký"


async def test_feed_pages_by_cursor_without_gaps_or_repeats(lgsp: Lgsp) -> None:
    cursor = await lgsp.end_of_feed()
    dossiers = [await _submitted_and_received(lgsp) for _ in range(3)]
    codes = {d["code"] for d in dossiers}
    whole = _mine(await lgsp.changes(cursor), codes)
    paged: list[tuple[str, str, int]] = []
    page = await lgsp.changes(cursor, limit=1)
    for _ in range(50):
        assert len(page["items"]) <= 1
        paged += _mine(page, codes)
        if not page["has_more"]:
            break
        page = await lgsp.changes(page["next_cursor"], limit=1)
    assert len(whole) >= 6
    assert paged == whole
    # The same cursor reads the same page again.
    assert _mine(await lgsp.changes(cursor), codes) == whole


async def test_feed_is_scoped_to_the_clients_unit(lgsp: Lgsp) -> None:
    cursor = await lgsp.end_of_feed()
    outside = await lgsp.http.post(
        f"{lgsp.base}/v1/dossiers",
        json=dossier_body(unit_code=BA_DINH),
        headers=lgsp.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}"),
    )
    assert outside.status_code == 201
    page = await lgsp.changes(cursor)
    assert outside.json()["code"] not in {i["dossier_code"] for i in page["items"]}


async def test_feed_does_not_skip_a_change_committed_after_a_later_one(
    lgsp: Lgsp, database_url: str
) -> None:
    early = (await lgsp.submit(external_body())).json()
    cursor = await lgsp.end_of_feed()
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        tx = conn.transaction()
        await tx.start()
        # Draws an id now, commits only later: the slow writer.
        slow_id = await conn.fetchval(
            "INSERT INTO intake.dossier_actions (dossier_id, action, from_status, to_status, "
            "actor, at) VALUES ($1, 'slow_writer_probe', 'submitted', 'submitted', 'probe', now()) "
            "RETURNING id",
            uuid.UUID(early["id"]),
        )
        later = (await lgsp.submit(external_body())).json()
        page = await lgsp.changes(cursor)
        seen = [(i["dossier_code"], i["action"]) for i in page["items"]]
        assert (later["code"], "submit") in seen
        assert (early["code"], "slow_writer_probe") not in seen
        await tx.commit()
    finally:
        await conn.close()
    next_page = await lgsp.changes(page["next_cursor"])
    late = [i for i in next_page["items"] if i["action"] == "slow_writer_probe"]
    assert [(i["dossier_code"], i["national_status_code"]) for i in late] == [(early["code"], 1)]
    assert (later["code"], "submit") not in [
        (i["dossier_code"], i["action"]) for i in next_page["items"]
    ]
    after_that = await lgsp.changes(next_page["next_cursor"])
    assert "slow_writer_probe" not in [i["action"] for i in after_that["items"]]
    # The scenario really happened: the slow writer's id is below the later, earlier-committed one.
    check = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        later_id = await check.fetchval(
            "SELECT id FROM intake.dossier_actions WHERE dossier_id = $1 AND action = 'submit'",
            uuid.UUID(later["id"]),
        )
    finally:
        await check.close()
    assert slow_id < later_id


async def test_a_bad_cursor_is_a_400_problem(lgsp: Lgsp) -> None:
    r = await lgsp.http.get(
        f"{lgsp.base}/v1/integration/changes", params={"after": "not-a-cursor"}, headers=lgsp.auth
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("bad-cursor")


async def test_the_feed_is_for_integration_clients(lgsp: Lgsp) -> None:
    r = await lgsp.http.get(
        f"{lgsp.base}/v1/integration/changes", headers=lgsp.tokens.receptionist()
    )
    assert r.status_code == 403
