"""The stored working-day calendar over HTTP: public reading, ops' edits published as events, the
deadline answer, and the appointment a desk really writes on a receipt at a chosen instant.

Ops edits here touch only 2031 and 2033, so they never move the 2026 dates the appointment tests
rely on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI

from intake_service.app import create_app
from intake_service.calendar.service import CalendarCache
from intake_service.db.models import MESSAGING
from intake_service.settings import IntakeSettings
from services.stack import Infrastructure, Stack
from shared.calendar import VN_TZ
from shared.clock import utcnow
from shared.db.engine import asyncpg_dsn, make_engine, make_sessionmaker
from shared.messaging.outbox import Outbox
from tests.support import Tokens, dossier_body, eventually

PROBLEM = "application/problem+json"
EDITED_YEAR = 2031


def vn(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


@pytest.fixture
def calendar_url(stack: Stack) -> str:
    return f"{stack.url('intake')}/v1/calendar"


async def due(http: httpx.AsyncClient, calendar_url: str, start: dt.datetime, **query: Any) -> str:
    r = await http.get(f"{calendar_url}/deadline", params={"from": start.isoformat(), **query})
    assert r.status_code == 200, r.text
    return r.json()["appointment_at"]


def instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


async def calendar_events(database_url: str, year: int) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_type, topic, payload, published_at FROM intake.outbox "
            "WHERE key = $1 ORDER BY id",
            f"calendar-{year}",
        )
    finally:
        await conn.close()
    return [
        {
            "type": r["event_type"],
            "topic": r["topic"],
            "published": r["published_at"] is not None,
            **orjson.loads(r["payload"]),
        }
        for r in rows
    ]


async def test_a_year_is_public_and_starts_from_the_statutory_base(
    http: httpx.AsyncClient, calendar_url: str
) -> None:
    r = await http.get(f"{calendar_url}/2026")
    assert r.status_code == 200, r.text
    entries = {e["date"]: e for e in r.json()["entries"]}
    for day in ("2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"):
        assert entries[day]["kind"] == "holiday" and entries[day]["source"] == "base"
    assert entries["2026-08-22"]["kind"] == "working_day"
    assert entries["2026-08-31"]["kind"] == "compensatory_day_off"
    assert entries["2026-08-31"]["kind_label_vi"] == "ngày nghỉ bù"


async def test_ops_edits_move_the_deadline_and_are_published_as_the_whole_year(
    http: httpx.AsyncClient, calendar_url: str, tokens: Tokens, database_url: str, namespace: str
) -> None:
    friday = vn(EDITED_YEAR, 3, 7, 10)  # Friday 7/3/2031; nothing special until Mon 10/3
    assert await due(http, calendar_url, friday, working_days=1) == "2031-03-10T17:00:00+07:00"

    days = f"{calendar_url}/{EDITED_YEAR}/days"
    r = await http.put(
        f"{days}/2031-03-10",
        json={"kind": "compensatory_day_off", "name": "Nghỉ hoán đổi (thử nghiệm)"},
        headers=tokens.ops(),
    )
    assert r.status_code == 200, r.text
    edited = {e["date"]: e for e in r.json()["entries"]}["2031-03-10"]
    assert edited["source"] == "ops" and edited["updated_by"] == "ops"
    # Mon 10/3 is now off: the first working day after Friday is Tue 11/3.
    assert await due(http, calendar_url, friday, working_days=1) == "2031-03-11T17:00:00+07:00"

    r = await http.put(f"{days}/2031-03-08", json={"kind": "working_day"}, headers=tokens.ops())
    assert r.status_code == 200, r.text
    # Saturday 8/3 is declared worked: it is the next working day after Friday.
    assert await due(http, calendar_url, friday, working_days=1) == "2031-03-08T17:00:00+07:00"

    for day in ("2031-03-08", "2031-03-10"):
        r = await http.delete(f"{days}/{day}", headers=tokens.ops())
        assert r.status_code == 200, r.text
    assert await due(http, calendar_url, friday, working_days=1) == "2031-03-10T17:00:00+07:00"
    # A removed base day stays removed: reading the year does not load the base again.
    r = await http.delete(f"{days}/2031-11-24", headers=tokens.ops())
    assert r.status_code == 200, r.text
    r = await http.get(f"{calendar_url}/{EDITED_YEAR}")
    assert "2031-11-24" not in {e["date"] for e in r.json()["entries"]}

    events = await calendar_events(database_url, EDITED_YEAR)
    # The first copy of the base, then one event per change, each with the whole year.
    assert [e["type"] for e in events] == ["vn.motcua.calendar.changed.v1"] * 6
    assert {e["topic"] for e in events} == {f"{namespace}intake.catalogue.v1"}
    assert [e["changed_by"] for e in events] == [None, "ops", "ops", "ops", "ops", "ops"]
    dates = [{x["date"] for x in e["entries"]} for e in events]
    assert "2031-01-22" in dates[0] and "2031-03-10" not in dates[0]
    assert {"2031-03-10"} <= dates[1] and {"2031-03-08", "2031-03-10"} <= dates[2]
    assert dates[4] == dates[0] and dates[5] == dates[0] - {"2031-11-24"}
    # The relay delivers them to the broker.
    await eventually(lambda: _all_published(database_url, EDITED_YEAR), interval=0.2)


async def _all_published(database_url: str, year: int) -> bool:
    return all(e["published"] for e in await calendar_events(database_url, year))


async def test_only_ops_change_the_calendar(
    http: httpx.AsyncClient, calendar_url: str, tokens: Tokens
) -> None:
    url = f"{calendar_url}/{EDITED_YEAR}/days/2031-06-02"
    body = {"kind": "holiday", "name": "Ngày thử nghiệm"}
    for headers in (tokens.receptionist(), tokens.province_officer()):
        r = await http.put(url, json=body, headers=headers)
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
        r = await http.delete(url, headers=headers)
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = await http.put(url, json=body)
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    r = await http.get(f"{calendar_url}/{EDITED_YEAR}")
    assert "2031-06-02" not in {e["date"] for e in r.json()["entries"]}


async def test_cached_calendar_is_reloaded_behind_the_desk_after_its_ttl(
    http: httpx.AsyncClient,
    calendar_url: str,
    tokens: Tokens,
    database_url: str,
    namespace: str,
) -> None:
    ticks = [0.0]
    engine = make_engine(IntakeSettings(database_url=database_url))
    cache = CalendarCache(
        make_sessionmaker(engine),
        Outbox(MESSAGING, "/motcua/intake", namespace=namespace),
        ttl=10,
        monotonic=lambda: ticks[0],
    )
    monday = dt.date(2033, 3, 7)
    assert monday.weekday() == 0
    url = f"{calendar_url}/2033/days/{monday.isoformat()}"
    try:
        cached = await cache.working_calendar([2033])
        assert cached.is_working_day(monday)
        r = await http.put(url, json={"kind": "compensatory_day_off"}, headers=tokens.ops())
        assert r.status_code == 200, r.text
        # Within the TTL the desk reads memory, not the database.
        assert await cache.working_calendar([2033]) is cached
        # Expired: still answered at once with what it has, while one reload runs behind.
        ticks[0] = 11
        assert await cache.working_calendar([2033]) is cached

        async def reloaded() -> bool:
            return not (await cache.working_calendar([2033])).is_working_day(monday)

        assert await eventually(reloaded, interval=0.05)
        # The process that changes the calendar invalidates: the next read is fresh.
        r = await http.delete(url, headers=tokens.ops())
        assert r.status_code == 200, r.text
        cache.invalidate()
        assert (await cache.working_calendar([2033])).is_working_day(monday)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        # A date of another year under this year's path.
        ("2031/days/2030-06-01", {"kind": "holiday"}, 422, "path.date"),
        # A weekday is a working day already (Tuesday 3/6/2031).
        ("2031/days/2031-06-03", {"kind": "working_day"}, 422, "body.kind"),
        ("2031/days/2031-06-03", {"kind": "day_off"}, 422, "body.kind"),
        ("2031/days/2031-02-30", {"kind": "holiday"}, 422, "path.date"),
        ("1890/days/1890-06-03", {"kind": "holiday"}, 422, "path.year"),
        ("2031/days/2031-06-03", {"kind": "holiday", "extra": 1}, 422, "body.extra"),
        ("2031/days/2031-06-03", {"kind": "holiday", "name": "x" * 201}, 422, "body.name"),
    ],
)
async def test_bad_edits_are_problems_and_change_nothing(
    http: httpx.AsyncClient,
    calendar_url: str,
    tokens: Tokens,
    path: str,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = (await http.get(f"{calendar_url}/{EDITED_YEAR}")).json()
    r = await http.put(f"{calendar_url}/{path}", json=body, headers=tokens.ops())
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["title_vi"] and problem["errors"]
    assert field in {e["field"] for e in problem["errors"]}
    assert all(e["message_vi"] for e in problem["errors"])
    assert (await http.get(f"{calendar_url}/{EDITED_YEAR}")).json() == before


async def test_removing_a_day_the_calendar_does_not_have_is_404(
    http: httpx.AsyncClient, calendar_url: str, tokens: Tokens
) -> None:
    r = await http.delete(f"{calendar_url}/{EDITED_YEAR}/days/2031-06-04", headers=tokens.ops())
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    r = await http.delete(f"{calendar_url}/{EDITED_YEAR}/days/2030-06-04", headers=tokens.ops())
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-04-24T16:30:00+07:00"},  # no duration
        {
            "from": "2026-04-24T16:30:00+07:00",
            "working_days": 5,
            "procedure_key": "dang-ky-tam-tru",
        },
        {"from": "2026-04-24T16:30:00", "working_days": 5},  # no offset: which 16:30?
        {"from": "yesterday", "working_days": 5},
        {"from": "2026-04-24T16:30:00+07:00", "working_days": -1},
        {"from": "2026-04-24T16:30:00+07:00", "working_days": "năm"},
        {"from": "2026-04-24T16:30:00+07:00", "procedure_key": "khong-co-thu-tuc-nay"},
    ],
)
async def test_bad_deadline_questions_are_problems(
    http: httpx.AsyncClient, calendar_url: str, query: dict[str, Any]
) -> None:
    r = await http.get(f"{calendar_url}/deadline", params=query)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"] and all(e["message_vi"] for e in r.json()["errors"])


async def test_deadline_of_a_procedure_uses_its_processing_time(
    http: httpx.AsyncClient, calendar_url: str
) -> None:
    # Đăng ký tạm trú: 3 working days. Wed 29/4/2026 10:00: Thu 30/4, Fri 1/5 off, weekend;
    # Mon 4/5 (1), Tue 5/5 (2), Wed 6/5 (3).
    start = vn(2026, 4, 29, 10)
    r = await http.get(
        f"{calendar_url}/deadline",
        params={"from": start.isoformat(), "procedure_key": "dang-ky-tam-tru"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["working_days"] == 3
    assert r.json()["appointment_at"] == "2026-05-06T17:00:00+07:00"
    assert r.json()["appointment_date"] == "2026-05-06"


async def test_a_procedure_timed_in_working_hours_is_due_in_office_hours(
    http: httpx.AsyncClient, stack: Stack, calendar_url: str, tokens: Tokens, database_url: str
) -> None:
    # Office hours 7:30–11:30 and 13:30–17:00. Four working hours from 15:00 on Friday 6/3/2026:
    # 15:00–17:00 that Friday, then 7:30–9:30 on Monday 9/3.
    key = f"trich-luc-4-gio-{uuid.uuid4().hex[:8]}"
    body = {
        "key": key,
        "code": "1.009997",
        "name": "Cấp bản sao trích lục hộ tịch (thử nghiệm)",
        "field": "Hộ tịch",
        "level": "commune",
        "online": "full",
        "processing": {"working_days": 0.5, "working_hours": 4},
        "fees": [{"name": "Lệ phí", "amount_vnd": 8000}],
        "components": ["Tờ khai đề nghị cấp bản sao trích lục hộ tịch"],
        "result": "Bản sao trích lục hộ tịch",
    }
    r = await http.post(f"{stack.url('intake')}/v1/procedures", json=body, headers=tokens.ops())
    assert r.status_code == 201, r.text

    friday = vn(2026, 3, 6, 15)
    assert friday.weekday() == 4
    r = await http.get(
        f"{calendar_url}/deadline", params={"from": friday.isoformat(), "procedure_key": key}
    )
    assert r.status_code == 200, r.text
    assert r.json()["appointment_at"] == "2026-03-09T09:30:00+07:00"
    assert r.json()["appointment_date"] == "2026-03-09"
    assert r.json()["working_hours"] == 4

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        payload = await conn.fetchval(
            "SELECT payload FROM intake.outbox WHERE key = $1 ORDER BY id DESC LIMIT 1", key
        )
    finally:
        await conn.close()
    published = orjson.loads(payload)
    assert published["processing_working_hours"] == 4 and published["fee_amount_vnd"] == 8000


# --- the appointment on a real receipt, at a chosen instant -----------------------------------


class FixedClock:
    """The instant the in-process app takes as "now"; tests move it between requests."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 5, 3, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def desk_app(
    infra: Infrastructure, database_url: str, stack: Stack, namespace: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    """Intake built in-process on the suite's database and broker, with its lifespan running
    and its clock frozen. Clients cannot set the receipt time; only this override can."""
    settings = IntakeSettings(
        database_url=database_url,
        kafka_bootstrap_servers=infra.bootstrap_servers,
        topic_namespace=namespace,
        jwt_public_key_file=stack.public_key_file,
        # The stack's intake consumes; a second member would only take its partitions away.
        consumers_enabled=False,
        log_json=True,
    )
    app: FastAPI = create_app(settings)
    clock = FixedClock()
    app.dependency_overrides[utcnow] = clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
            yield client, clock


@pytest.fixture
async def five_day_procedure(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> str:
    key = f"xac-nhan-5-ngay-{uuid.uuid4().hex[:8]}"
    body = {
        "key": key,
        "code": "1.009998",
        "name": "Cấp giấy xác nhận tình trạng nhà ở (thử nghiệm)",
        "field": "Nhà ở",
        "level": "commune",
        "online": "partial",
        "processing": {"working_days": 5},
        "fees": [{"name": "Lệ phí", "amount_vnd": 0}],
        "components": ["Đơn đề nghị xác nhận"],
        "result": "Giấy xác nhận",
    }
    r = await http.post(f"{stack.url('intake')}/v1/procedures", json=body, headers=tokens.ops())
    assert r.status_code == 201, r.text
    return key


async def receive_directly(
    client: httpx.AsyncClient, tokens: Tokens, procedure_key: str
) -> dict[str, Any]:
    r = await client.post(
        "/v1/dossiers",
        json=dossier_body(procedure_key=procedure_key, channel="direct"),
        headers=tokens.receptionist(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "received"
    return r.json()


async def test_half_past_four_before_a_three_day_weekend_gives_the_calendars_appointment(
    desk_app: tuple[httpx.AsyncClient, FixedClock],
    five_day_procedure: str,
    http: httpx.AsyncClient,
    calendar_url: str,
    tokens: Tokens,
) -> None:
    client, clock = desk_app
    # Friday 24/4/2026 16:30, the last working day before Sat 25, Sun 26 (Hùng Kings' day) and
    # Mon 27 (its compensatory day). Received that Friday (before 17:00), which does not count:
    # Tue 28 (1), Wed 29 (2), Thu 30/4 and Fri 1/5 holidays, weekend, Mon 4/5 (3), Tue 5/5 (4),
    # Wed 6/5 (5): the appointment is 17:00 on Wednesday 6 May 2026.
    clock.now = vn(2026, 4, 24, 16, 30)
    dossier = await receive_directly(client, tokens, five_day_procedure)
    assert instant(dossier["received_at"]) == clock.now
    appointment = instant(dossier["appointment_at"])
    assert appointment == vn(2026, 5, 6, 17)
    # The stack's own process answers the same for the same instant and procedure.
    answer = await due(http, calendar_url, clock.now, procedure_key=five_day_procedure)
    assert instant(answer) == appointment


async def test_dossier_received_during_tet_counts_from_the_first_day_back(
    desk_app: tuple[httpx.AsyncClient, FixedClock],
    five_day_procedure: str,
    http: httpx.AsyncClient,
    calendar_url: str,
    tokens: Tokens,
) -> None:
    client, clock = desk_app
    # Wednesday 18/2/2026, mùng hai Tết (Tết is 16–20/2): treated as received on Mon 23/2, which
    # does not count; Tue 24 (1), Wed 25 (2), Thu 26 (3), Fri 27 (4), Mon 2/3 (5).
    clock.now = vn(2026, 2, 18, 9)
    dossier = await receive_directly(client, tokens, five_day_procedure)
    appointment = instant(dossier["appointment_at"])
    assert appointment == vn(2026, 3, 2, 17)
    answer = await due(http, calendar_url, clock.now, working_days=5)
    assert instant(answer) == appointment


async def test_receiving_a_waiting_dossier_uses_the_clock_and_the_stored_calendar(
    desk_app: tuple[httpx.AsyncClient, FixedClock],
    five_day_procedure: str,
    http: httpx.AsyncClient,
    calendar_url: str,
    tokens: Tokens,
) -> None:
    client, clock = desk_app
    clock.now = vn(2026, 8, 27, 10)
    body = dossier_body(procedure_key=five_day_procedure, channel="online")
    citizen = tokens.bearer(body["applicant"]["id_number"], ["applicant"])
    submitted = await client.post("/v1/dossiers", json=body, headers=citizen)
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["appointment_at"] is None
    # Checked and received Friday 28/8/2026 16:30. Sat 29, Sun 30, Mon 31 (off for the worked
    # Saturday 22/8), Tue 1/9 and Wed 2/9 (National Day) are off: Thu 3 (1), Fri 4 (2),
    # Mon 7 (3), Tue 8 (4), Wed 9 (5).
    clock.now = vn(2026, 8, 28, 16, 30)
    received = await client.post(
        f"/v1/dossiers/{submitted.json()['code']}/receive",
        headers={**tokens.receptionist(), "If-Match": submitted.headers["ETag"]},
    )
    assert received.status_code == 200, received.text
    assert instant(received.json()["received_at"]) == clock.now
    appointment = instant(received.json()["appointment_at"])
    assert appointment == vn(2026, 9, 9, 17)
    assert instant(await due(http, calendar_url, clock.now, working_days=5)) == appointment
