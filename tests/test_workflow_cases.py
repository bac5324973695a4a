"""Cases over HTTP and the broker: the two example chains from submission to the returned result,
due instants on the calendar, pauses, the action table's refusals, concurrency and timers."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest

from services.stack import Stack
from shared.calendar import WorkingCalendar
from shared.db.engine import asyncpg_dsn
from shared.holidays_vn import vietnam_base_year
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body, eventually
from workflow_service.domain.deadlines import timeliness

NEWBORN = "lien-thong-khai-sinh-thuong-tru-bhyt"
LAND = "dang-ky-bien-dong-chuyen-nhuong-dat"
WARD_PATH = f"{HANOI}.{HOAN_KIEM}"


def calendar() -> WorkingCalendar:
    # The suite's calendar edits touch only far years, so 2025–2028 are the base.
    return WorkingCalendar.from_years(vietnam_base_year(y) for y in range(2025, 2029))


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class Agencies:
    """Officers of each agency taking part in the chains, for a Hoàn Kiếm dossier."""

    def __init__(self, tokens: Tokens) -> None:
        self.desk = tokens.receptionist()
        self.justice = tokens.bearer("cb.tuphap.00070", ["specialist"], HOAN_KIEM, WARD_PATH)
        self.specialist = tokens.bearer("cb.chuyenmon.00070", ["specialist"], HOAN_KIEM, WARD_PATH)
        self.province = tokens.bearer("cb.so.01", ["specialist"], HANOI, HANOI)
        self.other_specialist = tokens.bearer("cb.so2.01", ["specialist"], HANOI, HANOI)
        self.approver = tokens.bearer("ld.so.01", ["approver"], HANOI, HANOI)
        self.elsewhere = tokens.bearer("cb.nghean", ["specialist", "approver"], "40", "40")

    def for_step(self, step: dict[str, Any]) -> dict[str, str]:
        if step["role"] == "receptionist":
            return self.desk
        return self.justice if step["agency_kind"] == "commune_justice" else self.province


class Cases:
    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.intake = stack.url("intake")
        self.base = f"{stack.url('workflow')}/v1/cases"
        self.who = Agencies(tokens)

    async def open(self, procedure_key: str) -> dict[str, Any]:
        r = await self.http.post(
            f"{self.intake}/v1/dossiers", json=dossier_body(procedure_key), headers=self.who.desk
        )
        assert r.status_code == 201, r.text
        dossier = r.json()

        async def found() -> list[dict[str, Any]] | None:
            r = await self.http.get(
                self.base, params={"dossier_id": dossier["id"]}, headers=self.who.desk
            )
            return r.json() or None

        case = (await eventually(found, timeout=30))[0]
        return {"dossier": dossier, **(await self.read(case["id"]))}

    async def read(self, case_id: str) -> dict[str, Any]:
        r = await self.http.get(f"{self.base}/{case_id}", headers=self.who.desk)
        assert r.status_code == 200, r.text
        return {**r.json(), "etag": r.headers["ETag"]}

    async def act(
        self,
        case: dict[str, Any],
        action: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
        etag: str | None = None,
    ) -> httpx.Response:
        h = {**headers, "If-Match": etag or case["etag"]}
        return await self.http.post(f"{self.base}/{case['id']}/{action}", headers=h, json=body)

    async def step(self, case: dict[str, Any], action: str, body: dict | None = None) -> dict:
        current = next(s for s in case["steps"] if s["id"] == case["current_step_id"])
        r = await self.act(case, action, self.who.for_step(current), body)
        assert r.status_code == 200, f"{action} at {current['name']}: {r.text}"
        return {**r.json(), "etag": r.headers["ETag"]}


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


def current(case: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in case["steps"] if s["id"] == case["current_step_id"])


def assert_due_on_calendar(case: dict[str, Any], step: dict[str, Any]) -> None:
    # Steps share the office time from receipt to the appointment intake promised.
    window = calendar().working_day_length * case["processing_working_days"]
    assert window >= calendar().working_day_length * 10  # both chains take 10 working days
    budget = window * step["share"]
    assert ts(step["due_at"]) == calendar().shift_by_working_time(ts(step["started_at"]), budget)


async def walk(cases: Cases, case: dict[str, Any], until: str) -> dict[str, Any]:
    """Claim and complete each step until the case's current step is ``until``."""
    while current(case)["name"] != until:
        assert_due_on_calendar(case, current(case))
        case = await cases.step(case, "claim")
        case = await cases.step(case, "complete")
    return case


async def return_to_applicant(cases: Cases, http: httpx.AsyncClient, case: dict[str, Any]) -> None:
    """Intake hears of the resolution through the broker; the desk hands the result over."""
    dossier_url = f"{cases.intake}/v1/dossiers/{case['dossier_code']}"

    async def resolved() -> httpx.Response | None:
        r = await http.get(dossier_url, headers=cases.who.desk)
        return r if r.json()["status"] == "resolved" else None

    r = await eventually(resolved, timeout=30)
    r = await http.post(
        f"{dossier_url}/return-result", headers={**cases.who.desk, "If-Match": r.headers["ETag"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"


async def test_newborn_chain_from_submission_to_returned_result(
    cases: Cases, http: httpx.AsyncClient
) -> None:
    case = await cases.open(NEWBORN)
    assert ts(case["due_at"]) == ts(case["dossier"]["appointment_at"])
    window = calendar().working_time_between(ts(case["received_at"]), ts(case["due_at"]))
    shared = calendar().working_day_length * case["processing_working_days"]
    assert abs(window - shared) < dt.timedelta(milliseconds=1)
    first = current(case)
    assert (first["name"], first["agency_code"], first["status"]) == (
        "receive",
        f"motcua-{HOAN_KIEM}",
        "waiting",
    )
    assert ts(first["started_at"]) == ts(case["received_at"])

    case = await walk(cases, case, "return_result")
    agencies = [s["agency_code"] for s in case["steps"]]
    assert agencies == [
        f"motcua-{HOAN_KIEM}",
        f"tuphap-{HOAN_KIEM}",
        f"congan-{HANOI}",
        f"bhxh-{HANOI}",
        f"motcua-{HOAN_KIEM}",
    ]
    # Each step finished within seconds of starting: never late, early unless due the same day.
    for s in case["steps"][:-1]:
        assert s["timeliness"] == timeliness(ts(s["finished_at"]), ts(s["due_at"]))
        assert s["timeliness"] != "late"

    # The last step cannot be "completed": the route ends; it is resolved with a result.
    case = await cases.step(case, "claim")
    r = await cases.act(case, "complete", cases.who.desk)
    assert r.status_code == 422
    case = await cases.step(
        case, "resolve", {"result": "Giấy khai sinh, xác nhận thường trú, thẻ BHYT đã cấp"}
    )
    assert case["status"] == "resolved"
    assert case["timeliness"] == timeliness(ts(case["finished_at"]), ts(case["due_at"]))

    await return_to_applicant(cases, http, case)

    sheet = await http.get(f"{cases.base}/{case['id']}/control-sheet", headers=cases.who.desk)
    actions = [row["action"] for row in sheet.json()]
    assert actions[0] == "open" and actions[-1] == "resolve"
    assert actions.count("complete") == 4 and actions.count("claim") == 5


async def test_land_chain_pauses_for_the_financial_obligation_then_reaches_the_applicant(
    cases: Cases, http: httpx.AsyncClient
) -> None:
    case = await cases.open(LAND)
    case = await walk(cases, case, "financial_obligation")
    case = await cases.step(case, "claim")
    before_case_due = ts(case["due_at"])
    before_step_due = ts(current(case)["due_at"])
    case = await cases.step(
        case,
        "request-financial-obligation",
        {"reason": "Thông báo nộp lệ phí trước bạ và thuế thu nhập cá nhân", "amount_vnd": 1250000},
    )
    assert case["status"] == "paused" and case["pause_reason"] == "financial_obligation"
    r = await cases.act(case, "complete", cases.who.province)
    assert r.status_code == 409
    assert r.json()["title_vi"]

    await asyncio.sleep(1.2)
    case = await cases.step(case, "resume")
    assert case["status"] == "open"
    # The due instants moved by the office time of the pause, which is the same for both.
    moved_case = ts(case["due_at"])
    moved_step = ts(current(case)["due_at"])
    assert moved_case >= before_case_due and moved_step >= before_step_due
    shift = calendar().working_time_between(before_step_due, moved_step)
    assert calendar().working_time_between(before_case_due, moved_case) == shift

    case = await walk(cases, await cases.step(case, "complete"), "update_certificate")
    case = await cases.step(case, "claim")
    case = await cases.step(
        case, "send-back", {"to_step": "survey_and_check", "reason": "Số liệu đo đạc chưa khớp"}
    )
    assert current(case)["name"] == "survey_and_check"
    assert [s["status"] for s in case["steps"]].count("sent_back") == 1

    case = await walk(cases, case, "return_result")
    case = await cases.step(case, "claim")
    case = await cases.step(
        case, "resolve", {"result": "Giấy chứng nhận quyền sử dụng đất đã cập nhật biến động"}
    )
    assert case["status"] == "resolved"
    await return_to_applicant(cases, http, case)


async def test_refusals_wrong_role_state_version_unit_and_missing_fields(cases: Cases) -> None:
    case = await cases.open(LAND)
    who = cases.who
    assert (await cases.act(case, "claim", who.province)).status_code == 403  # desk step
    r = await cases.act(case, "complete", who.desk)
    assert r.status_code == 409  # not claimed yet
    assert (await cases.act(case, "claim", who.desk, etag='"999"')).status_code == 412
    r = await cases.http.post(f"{cases.base}/{case['id']}/claim", headers=who.desk)
    assert r.status_code == 428
    assert (await cases.act(case, "claim", who.elsewhere)).status_code == 404
    claimed = await cases.step(case, "claim")
    r = await cases.act(claimed, "send-back", who.desk, {"reason": "thiếu bước"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in r.json()["errors"]} == {"body.to_step"}
    unchanged = await cases.read(case["id"])
    assert unchanged["version"] == claimed["version"]


async def test_two_officers_act_on_the_same_step_at_once_one_wins(cases: Cases) -> None:
    case = await walk(cases, await cases.open(LAND), "survey_and_check")
    first, second = await asyncio.gather(
        cases.act(case, "claim", cases.who.province),
        cases.act(case, "claim", cases.who.other_specialist),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    claimed = {**winner.json(), "etag": winner.headers["ETag"]}
    loser = cases.who.other_specialist if winner is first else cases.who.province
    # The loser reads the new version, but the step is someone else's now.
    r = await cases.act(claimed, "complete", loser)
    assert r.status_code == 403
    # An approver may move the step on someone else's behalf.
    r = await cases.act(
        claimed,
        "transfer",
        cases.who.approver,
        {"agency_code": "vpdkdd-01-cn-hoankiem", "reason": "Chuyển chi nhánh phụ trách địa bàn"},
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert current(moved)["agency_code"] == "vpdkdd-01-cn-hoankiem"
    assert current(moved)["status"] == "waiting"


async def test_work_queue_lists_open_steps_soonest_due_first_with_cursor(
    cases: Cases, http: httpx.AsyncClient, stack: Stack
) -> None:
    for _ in range(3):
        await cases.open(LAND)
    url = f"{stack.url('workflow')}/v1/steps"
    params = {"agency_code": f"motcua-{HOAN_KIEM}", "limit": 2}
    page = (await http.get(url, params=params, headers=cases.who.desk)).json()
    seen = list(page["items"])
    while page["next_cursor"]:
        page = (
            await http.get(
                url, params={**params, "cursor": page["next_cursor"]}, headers=cases.who.desk
            )
        ).json()
        seen.extend(page["items"])
    dues = [(ts(s["due_at"]), s["id"]) for s in seen]
    assert dues == sorted(dues) and len(seen) >= 3
    assert len({s["id"] for s in seen}) == len(seen)
    bad = await http.get(url, params={"cursor": "!!"}, headers=cases.who.desk)
    assert bad.status_code == 400


async def overdue_events(database_url: str, case_id: str) -> dict[str, int]:
    """How many step.overdue and case.overdue events workflow wrote for the case."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_type, count(*) AS n FROM workflow.outbox WHERE event_type = ANY($1) "
            "AND convert_from(payload, 'UTF8')::jsonb->>'case_id' = $2 GROUP BY event_type",
            ["vn.motcua.step.overdue.v1", "vn.motcua.case.overdue.v1"],
            case_id,
        )
        return {r["event_type"].split(".")[2]: r["n"] for r in rows}
    finally:
        await conn.close()


async def test_a_deadline_passing_while_workflow_is_down_fires_once_after_restart(
    cases: Cases, stack: Stack, database_url: str, http: httpx.AsyncClient
) -> None:
    case = await cases.open(LAND)
    step_id = current(case)["id"]
    await asyncio.to_thread(stack.processes["workflow"].stop)
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        # The case's and its step's deadlines pass while no workflow process runs.
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        await conn.execute(
            "UPDATE workflow.steps SET due_at = $2 WHERE id = $1::uuid", step_id, past
        )
        await conn.execute(
            "UPDATE workflow.cases SET due_at = $2 WHERE id = $1::uuid", case["id"], past
        )
        await conn.execute(
            "UPDATE workflow.timers SET due_at = $2 WHERE case_id = $1::uuid", case["id"], past
        )
    finally:
        await conn.close()
    await asyncio.to_thread(stack.start, ["workflow"])

    async def fired() -> dict[str, int] | None:
        counts = await overdue_events(database_url, case["id"])
        return counts if len(counts) == 2 else None

    assert await eventually(fired, timeout=30) == {"step": 1, "case": 1}
    await asyncio.to_thread(stack.restart, "workflow")
    await asyncio.sleep(2)
    assert await overdue_events(database_url, case["id"]) == {"step": 1, "case": 1}

    queue = await http.get(
        f"{stack.url('workflow')}/v1/steps",
        params={"filter": "overdue", "agency_code": f"motcua-{HOAN_KIEM}"},
        headers=cases.who.desk,
    )
    assert step_id in {s["id"] for s in queue.json()["items"]}
