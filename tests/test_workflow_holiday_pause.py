"""A supplement requested on the Friday before National Day and answered the Thursday after:
the long weekend and the holidays cost the office nothing, so the case's and the step's due
instants move by the office time of the pause alone. Workflow runs in-process with its clock
fixed, on the suite's database; the case itself is opened by the real stack."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.stack import Infrastructure, Stack
from shared.calendar import VN_TZ
from shared.clock import utcnow
from shared.holidays_vn import vietnam_base_year
from tests.support import Tokens
from tests.test_workflow_cases import LAND, Agencies, Cases, calendar, current, ts
from workflow_service.app import create_app
from workflow_service.settings import WorkflowSettings


def vn(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


class FixedClock:
    """The instant the in-process app takes as "now"; the test moves it between requests."""

    def __init__(self) -> None:
        self.now = vn(2026, 8, 28, 14)

    def __call__(self) -> dt.datetime:
        return self.now


class Officers:
    """Acts on one case through the in-process app, each action at the clock's instant."""

    def __init__(self, client: httpx.AsyncClient, clock: FixedClock, who: Agencies) -> None:
        self.client, self.clock, self.who = client, clock, who

    async def act(
        self, case: dict[str, Any], action: str, at: dt.datetime, body: dict | None = None
    ) -> dict[str, Any]:
        self.clock.now = at
        headers = {**self.who.for_step(current(case)), "If-Match": case["etag"]}
        r = await self.client.post(f"/v1/cases/{case['id']}/{action}", headers=headers, json=body)
        assert r.status_code == 200, f"{action} at {current(case)['name']}: {r.text}"
        return {**r.json(), "etag": r.headers["ETag"]}


@pytest.fixture
async def workflow_app(
    infra: Infrastructure, database_url: str, stack: Stack, namespace: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    settings = WorkflowSettings(
        database_url=database_url,
        kafka_bootstrap_servers=infra.bootstrap_servers,
        topic_namespace=namespace,
        jwt_public_key_file=stack.public_key_file,
        # The stack's workflow consumes and fires timers; this one only answers requests.
        consumers_enabled=False,
        timers_enabled=False,
        log_json=True,
    )
    app: FastAPI = create_app(settings)
    clock = FixedClock()
    app.dependency_overrides[utcnow] = clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://workflow.test", timeout=30
        ) as client:
            yield client, clock


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


def test_the_days_around_national_day_2026_are_off() -> None:
    # The premise of the pause below, from the statutory base both services start from.
    year = vietnam_base_year(2026)
    kinds = {(m, d): year.entry(dt.date(2026, m, d)) for m, d in ((8, 31), (9, 1), (9, 2))}
    assert all(e is not None and e.kind.is_day_off for e in kinds.values())
    cal = calendar()
    days = [dt.date(2026, 8, 28) + dt.timedelta(days=i) for i in range(7)]
    assert [cal.is_working_day(d) for d in days] == [True, False, False, False, False, False, True]


async def test_a_pause_over_the_national_day_holidays_moves_due_instants_by_office_time_only(
    workflow_app: tuple[httpx.AsyncClient, FixedClock], cases: Cases
) -> None:
    client, clock = workflow_app
    officers = Officers(client, clock, cases.who)
    case = await cases.open(LAND)  # intake receives, the stack's workflow opens the case

    # Friday 28/8/2026: the desk passes the dossier on at 14:30, the office claims it at 14:45
    # and asks the applicant for a supplement at 15:00.
    case = await officers.act(case, "claim", vn(2026, 8, 28, 14))
    case = await officers.act(case, "complete", vn(2026, 8, 28, 14, 30))
    step_name = current(case)["name"]
    assert ts(current(case)["started_at"]) == vn(2026, 8, 28, 14, 30)
    case = await officers.act(case, "claim", vn(2026, 8, 28, 14, 45))
    pause, resume = vn(2026, 8, 28, 15), vn(2026, 9, 3, 9)
    case = await officers.act(
        case,
        "request-supplement",
        pause,
        {"reason": "Bổ sung bản sao hợp đồng chuyển nhượng có công chứng"},
    )
    assert case["status"] == "paused" and ts(case["paused_at"]) == pause
    case_due, step_due = ts(case["due_at"]), ts(current(case)["due_at"])

    # Thursday 3/9/2026 09:00: the supplement is in and the case resumes. Office time paused:
    # Fri 28/8 15:00–17:00 = 2 h; Sat 29, Sun 30, Mon 31/8 (off for the worked Sat 22/8),
    # Tue 1/9 and Wed 2/9 (National Day) count nothing; Thu 3/9 07:30–09:00 = 1.5 h: 3.5 h,
    # against almost six days on the wall clock.
    case = await officers.act(case, "resume", resume)
    cal = calendar()
    paused_for = cal.working_time_between(pause, resume)
    assert paused_for == dt.timedelta(hours=3, minutes=30)
    assert resume - pause > dt.timedelta(days=5)
    assert case["status"] == "open" and case["paused_at"] is None
    assert current(case)["name"] == step_name

    new_case_due, new_step_due = ts(case["due_at"]), ts(current(case)["due_at"])
    assert new_case_due == cal.shift_by_working_time(case_due, paused_for)
    assert new_step_due == cal.shift_by_working_time(step_due, paused_for)
    assert cal.working_time_between(case_due, new_case_due) == paused_for
    assert cal.working_time_between(step_due, new_step_due) == paused_for

    # The control sheet has both acts at the instants the officers did them.
    sheet = (
        await client.get(f"/v1/cases/{case['id']}/control-sheet", headers=cases.who.desk)
    ).json()
    acts = {row["action"]: ts(row["at"]) for row in sheet}
    assert acts["request_supplement"] == pause and acts["resume"] == resume
