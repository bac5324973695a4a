"""Every lifecycle transition over HTTP, allowed and refused, with the events each publishes."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from services.stack import Stack
from shared.db.engine import asyncpg_dsn
from tests.support import BA_DINH, HANOI, Tokens, dossier_body

PROBLEM = "application/problem+json"


class Desk:
    """A receptionist of Hoàn Kiếm and the dossiers they handle."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = f"{stack.url('intake')}/v1/dossiers"
        self.tokens = tokens
        self.officer = tokens.receptionist()

    async def submit(
        self, channel: str = "online", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = dossier_body(channel=channel)
        if headers is None:
            citizen = body["applicant"]["id_number"]
            headers = self.tokens.bearer(citizen, ["applicant"])
        r = await self.http.post(self.base, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r

    async def act(
        self,
        r: httpx.Response,
        action: str,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        json: dict | None = None,
    ) -> httpx.Response:
        code = r.json()["code"]
        h = dict(headers or self.officer)
        h["If-Match"] = etag if etag is not None else r.headers["ETag"]
        return await self.http.post(f"{self.base}/{code}/{action}", headers=h, json=json)


@pytest.fixture
def desk(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Desk:
    return Desk(http, stack, tokens)


async def published(database_url: str, dossier_id: str) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_type FROM intake.outbox WHERE key = $1 ORDER BY id", dossier_id
        )
        return [
            r["event_type"].removeprefix("vn.motcua.dossier.").removesuffix(".v1") for r in rows
        ]
    finally:
        await conn.close()


SUPPLEMENT = {
    "items": [{"component": "Giấy tờ chứng minh chỗ ở hợp pháp", "reason": "Bản chụp không rõ"}]
}


async def test_online_dossier_waits_then_is_received_with_an_appointment(
    desk: Desk, database_url: str
) -> None:
    r = await desk.submit()
    assert r.json()["status"] == "submitted" and r.json()["appointment_at"] is None
    received = await desk.act(r, "receive")
    assert received.status_code == 200, received.text
    body = received.json()
    assert body["status"] == "received" and body["appointment_at"]
    assert received.headers["ETag"] == '"2"'
    assert await published(database_url, body["id"]) == ["submitted", "received"]


async def test_supplement_round_trip_then_receive(desk: Desk, database_url: str) -> None:
    r = await desk.submit()
    asked = await desk.act(r, "request-supplement", json=SUPPLEMENT)
    assert asked.status_code == 200 and asked.json()["status"] == "awaiting_supplement"
    citizen = desk.tokens.bearer(await _applicant_id(desk, r), ["applicant"])
    supplied = await desk.act(asked, "supplement", headers=citizen)
    assert supplied.status_code == 200, supplied.text
    assert supplied.json()["status"] == "submitted"
    # Once is the rule: a second request for the same dossier is refused.
    again = await desk.act(supplied, "request-supplement", json=SUPPLEMENT)
    assert again.status_code == 409 and again.json()["type"].endswith(
        "supplement-already-requested"
    )
    received = await desk.act(supplied, "receive")
    assert received.status_code == 200
    assert await published(database_url, r.json()["id"]) == [
        "submitted",
        "supplement_requested",
        "supplemented",
        "received",
    ]


async def _applicant_id(desk: Desk, r: httpx.Response) -> str:
    full = await desk.http.get(
        f"{desk.base}/{r.json()['code']}", headers=desk.tokens.province_officer()
    )
    return full.json()["history"][0]["actor"]


async def test_refuse_needs_a_reason_and_ends_the_dossier(desk: Desk, database_url: str) -> None:
    r = await desk.submit(channel="postal", headers=desk.officer)
    no_reason = await desk.act(r, "refuse", json={})
    assert no_reason.status_code == 422
    refused = await desk.act(r, "refuse", json={"reason": "Không thuộc thẩm quyền của UBND phường"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    late = await desk.act(refused, "receive")
    assert late.status_code == 409
    assert late.headers["content-type"].startswith(PROBLEM)
    assert await published(database_url, r.json()["id"]) == ["submitted", "refused"]


async def test_applicant_withdraws_own_dossier_but_not_anothers(
    desk: Desk, database_url: str
) -> None:
    r = await desk.submit()
    applicant = await _applicant_id(desk, r)
    stranger = desk.tokens.bearer("001999888777", ["applicant"])
    assert (await desk.act(r, "withdraw", headers=stranger)).status_code == 404
    withdrawn = await desk.act(r, "withdraw", headers=desk.tokens.bearer(applicant, ["applicant"]))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert await published(database_url, r.json()["id"]) == ["submitted", "withdrawn"]


async def test_stale_if_match_gets_412_and_changes_nothing(desk: Desk, database_url: str) -> None:
    r = await desk.submit()
    stale = await desk.act(r, "receive", etag='"7"')
    assert stale.status_code == 412
    missing = await desk.http.post(f"{desk.base}/{r.json()['code']}/receive", headers=desk.officer)
    assert missing.status_code == 428
    assert await published(database_url, r.json()["id"]) == ["submitted"]


async def test_two_officers_at_once_one_wins_the_other_gets_412(desk: Desk) -> None:
    r = await desk.submit()
    results = await asyncio.gather(
        desk.act(r, "receive"),
        desk.act(r, "refuse", json={"reason": "Hồ sơ không hợp lệ theo quy định"}),
    )
    assert sorted(x.status_code for x in results) == [200, 412]


async def test_wrong_role_gets_403_and_other_unit_404(desk: Desk, database_url: str) -> None:
    r = await desk.submit()
    applicant = desk.tokens.bearer(await _applicant_id(desk, r), ["applicant"])
    assert (await desk.act(r, "receive", headers=applicant)).status_code == 403
    specialist = desk.tokens.bearer("cv.xuly", ["specialist"], "00070", f"{HANOI}.00070")
    assert (
        await desk.act(r, "refuse", headers=specialist, json={"reason": "Không hợp lệ"})
    ).status_code == 403
    neighbour = desk.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (await desk.act(r, "receive", headers=neighbour)).status_code == 404
    assert await published(database_url, r.json()["id"]) == ["submitted"]


async def test_return_result_is_refused_before_a_result_exists(desk: Desk) -> None:
    r = await desk.submit(channel="direct", headers=desk.officer)
    early = await desk.act(r, "return-result")
    assert early.status_code == 409
    assert "received" in early.json()["detail"] or "in_processing" in early.json()["detail"]


async def test_only_a_receptionist_receives_on_the_spot(desk: Desk) -> None:
    body = dossier_body(channel="online", receive_now=True)
    citizen = desk.tokens.bearer(body["applicant"]["id_number"], ["applicant"])
    r = await desk.http.post(desk.base, json=body, headers=citizen)
    assert r.status_code == 403


async def test_lifecycle_table_is_published(desk: Desk) -> None:
    r = await desk.http.get(f"{desk.base}/lifecycle")
    rows = r.json()
    assert {"source": "submitted", "action": "receive", "target": "received"}.items() <= rows[
        0
    ].items()
    assert all(row["roles"] for row in rows)
