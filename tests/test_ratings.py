"""Satisfaction ratings over HTTP: three channels, once per channel, events for the metrics."""

from __future__ import annotations

import asyncpg
import httpx
import orjson
import pytest

from services.stack import Stack
from shared.db.engine import asyncpg_dsn
from tests.support import BA_DINH, HANOI, HOAN_KIEM, Tokens, client_address, dossier_body

PROBLEM = "application/problem+json"


class Raters:
    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = stack.url("intake")
        self.tokens = tokens
        self.survey = tokens.bearer(
            "khao-sat.hanoi", ["integration"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}"
        )
        self.client = client_address()

    async def online_dossier(self) -> tuple[dict, dict[str, str], str]:
        body = dossier_body(channel="online")
        id_number = body["applicant"]["id_number"]
        citizen = self.tokens.bearer(id_number, ["applicant"])
        r = await self.http.post(f"{self.base}/v1/dossiers", json=body, headers=citizen)
        assert r.status_code == 201, r.text
        return r.json(), citizen, id_number

    async def rate(
        self, code: str, body: dict, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/v1/dossiers/{code}/ratings",
            json=body,
            headers={**self.client, **(headers or {})},
        )


@pytest.fixture
def raters(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Raters:
    return Raters(http, stack, tokens)


async def rated_events(database_url: str, dossier_id: str) -> list[dict]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT payload FROM intake.outbox WHERE key = $1 AND event_type = $2 ORDER BY id",
            dossier_id,
            "vn.motcua.dossier.rated.v1",
        )
        return [orjson.loads(r["payload"]) for r in rows]
    finally:
        await conn.close()


async def test_applicant_rates_online_once(raters: Raters, database_url: str) -> None:
    dossier, citizen, _ = await raters.online_dossier()
    first = await raters.rate(
        dossier["code"], {"channel": "online", "score": 5, "comment": "Nhanh gọn"}, citizen
    )
    assert first.status_code == 201, first.text
    assert first.json() | {"rated_at": None} == {
        "dossier_code": dossier["code"],
        "channel": "online",
        "channel_label_vi": "Đánh giá trực tuyến khi nộp hồ sơ",
        "score": 5,
        "score_label_vi": "Rất hài lòng",
        "satisfied": True,
        "comment": "Nhanh gọn",
        "rated_at": None,
    }
    again = await raters.rate(dossier["code"], {"channel": "online", "score": 1}, citizen)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert again.json()["type"].endswith("already-rated")
    events = await rated_events(database_url, dossier["id"])
    assert [(e["rating_channel"], e["score"], e["satisfied"]) for e in events] == [
        ("online", 5, True)
    ]
    assert events[0]["channel"] == "online" and events[0]["unit_code"] == HOAN_KIEM


async def test_online_rating_needs_the_applicant_themself(raters: Raters) -> None:
    dossier, _, _ = await raters.online_dossier()
    body = {"channel": "online", "score": 4}
    assert (await raters.rate(dossier["code"], body)).status_code == 401
    stranger = raters.tokens.bearer("001999888777", ["applicant"])
    assert (await raters.rate(dossier["code"], body, stranger)).status_code == 404
    officer = raters.tokens.receptionist()
    assert (await raters.rate(dossier["code"], body, officer)).status_code == 403


async def test_qr_rating_needs_the_verifier_and_is_once_too(
    raters: Raters, database_url: str
) -> None:
    dossier, citizen, id_number = await raters.online_dossier()
    missing = await raters.rate(dossier["code"], {"channel": "qr", "score": 4})
    assert missing.status_code == 422
    wrong = await raters.rate(dossier["code"], {"channel": "qr", "score": 4, "verifier": "0000"})
    assert wrong.status_code == 404 and wrong.json()["type"].endswith("lookup-not-found")
    ok = await raters.rate(
        dossier["code"], {"channel": "qr", "score": 3, "verifier": id_number[-4:]}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["satisfied"] is False and ok.json()["score_label_vi"] == "Bình thường"
    twice = await raters.rate(
        dossier["code"], {"channel": "qr", "score": 5, "verifier": id_number[-4:]}
    )
    assert twice.status_code == 409
    # Another channel is another rating.
    online = await raters.rate(dossier["code"], {"channel": "online", "score": 4}, citizen)
    assert online.status_code == 201
    events = await rated_events(database_url, dossier["id"])
    assert [(e["rating_channel"], e["score"]) for e in events] == [("qr", 3), ("online", 4)]


async def test_scores_outside_one_to_five_are_refused(raters: Raters) -> None:
    dossier, citizen, _ = await raters.online_dossier()
    for score in (0, 6):
        r = await raters.rate(dossier["code"], {"channel": "online", "score": score}, citizen)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "body.score"


async def test_survey_import_accepts_and_rejects_item_by_item(
    raters: Raters, database_url: str
) -> None:
    first, _, _ = await raters.online_dossier()
    second, _, _ = await raters.online_dossier()
    outside = await raters.http.post(
        f"{raters.base}/v1/dossiers",
        json=dossier_body(unit_code=BA_DINH),
        headers=raters.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}"),
    )
    assert outside.status_code == 201, outside.text
    batch = {
        "items": [
            {"dossier_code": first["code"], "score": 5},
            {"dossier_code": "000.70.01.H01-991231-9999", "score": 4},
            {"dossier_code": second["code"], "score": 2, "comment": "Phải chờ lâu tại quầy"},
            {"dossier_code": first["code"], "score": 1},
            {"dossier_code": outside.json()["code"], "score": 4},
        ]
    }
    r = await raters.http.post(
        f"{raters.base}/v1/ratings/import", json=batch, headers=raters.survey
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 3)
    assert [x["outcome"] for x in body["results"]] == [
        "accepted",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
    ]
    assert [x["problem"]["status"] for x in body["results"] if x["problem"]] == [404, 409, 404]
    assert [e["score"] for e in await rated_events(database_url, first["id"])] == [5]
    assert [e["satisfied"] for e in await rated_events(database_url, second["id"])] == [False]
    # A replayed batch writes nothing new.
    again = await raters.http.post(
        f"{raters.base}/v1/ratings/import", json=batch, headers=raters.survey
    )
    assert again.json()["accepted"] == 0


async def test_survey_import_is_for_integration_clients_only(raters: Raters) -> None:
    batch = {"items": [{"dossier_code": "000.70.01.H01-991231-9999", "score": 4}]}
    r = await raters.http.post(
        f"{raters.base}/v1/ratings/import", json=batch, headers=raters.tokens.receptionist()
    )
    assert r.status_code == 403


async def test_officers_read_ratings_within_their_unit_and_the_applicant_their_own(
    raters: Raters,
) -> None:
    dossier, citizen, id_number = await raters.online_dossier()
    await raters.rate(dossier["code"], {"channel": "online", "score": 4}, citizen)
    await raters.rate(dossier["code"], {"channel": "qr", "score": 2, "verifier": id_number[-4:]})
    url = f"{raters.base}/v1/dossiers/{dossier['code']}/ratings"
    mine = await raters.http.get(url, headers=raters.tokens.receptionist())
    assert mine.status_code == 200
    assert sorted((x["channel"], x["score"]) for x in mine.json()) == [("online", 4), ("qr", 2)]
    neighbour = raters.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (await raters.http.get(url, headers=neighbour)).status_code == 404
    own = await raters.http.get(url, headers=citizen)
    assert own.status_code == 200 and own.json() == mine.json()
    stranger = raters.tokens.bearer("001999888777", ["applicant"])
    assert (await raters.http.get(url, headers=stranger)).status_code == 404
