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
from shared.deadlines import timeliness
from shared.holidays_vn import vietnam_base_year
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body, eventually

NEWBORN = "lien-thong-khai-sinh-thuong-tru-bhyt"
LAND = "dang-ky-bien-dong-chuyen-nhuong-dat"
WARD_PATH = f"{HANOI}.{HOAN_KIEM}"


def calendar() -> WorkingCalendar:
    # The suite's calendar edits touch only far years, so 2025–2028 are the base.
    return WorkingCalendar.from_years(vietnam_base_year(y) for y in range(2025, 2029))


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class Agencies:
    """Officers of each agency taking part in the chains, for a Hoàn Kiếm dossier: each holds
    their agency in the token's ``agency`` claim, as the province's identity provider issues."""

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.desk = tokens.receptionist()
        self.justice = self.officer(f"tuphap-{HOAN_KIEM}")
        self.specialist = self.officer(f"chuyenmon-{HOAN_KIEM}")
        self.police = self.officer(f"congan-{HANOI}")
        self.social_insurance = self.officer(f"bhxh-{HANOI}")
        self.land = self.officer(f"vpdkdd-{HANOI}")
        self.other_land = self.officer(f"vpdkdd-{HANOI}", sub="cb2.vpdkdd-01")
        self.tax = self.officer(f"thue-{HANOI}")
        # A specialist of the province with no agency: holds the role, works no step.
        self.province = tokens.bearer("cb.so.01", ["specialist"], HANOI, HANOI)
        self.elsewhere = tokens.bearer(
            "cb.nghean", ["specialist", "approver"], "40", "40", agency="congan-40"
        )

    def officer(
        self, agency: str, roles: tuple[str, ...] = ("specialist",), sub: str | None = None
    ) -> dict[str, str]:
        """An officer of ``agency``: ward agencies' officers sit at the ward, others at the
        province."""
        ward = agency.startswith(("motcua-", "tuphap-", "chuyenmon-"))
        unit, path = (HOAN_KIEM, WARD_PATH) if ward else (HANOI, HANOI)
        who = sub or f"{'ld' if 'approver' in roles else 'cb'}.{agency}"
        return self.tokens.bearer(who, list(roles), unit, path, agency=agency)

    def approver(self, agency: str) -> dict[str, str]:
        return self.officer(agency, ("approver",))

    def for_step(self, step: dict[str, Any], action: str = "claim") -> dict[str, str]:
        """Who does ``action`` on ``step``: its agency's approver ends a case, an officer of its
        agency with its role does the rest."""
        if action in ("resolve", "reject"):
            return self.approver(step["agency_code"])
        if step["role"] == "receptionist":
            return (
                self.desk
                if step["agency_code"] == f"motcua-{HOAN_KIEM}"
                else (self.officer(step["agency_code"], ("receptionist",)))
            )
        return self.officer(step["agency_code"], (step["role"],))


class Cases:
    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.intake = stack.url("intake")
        self.base = f"{stack.url('workflow')}/v1/cases"
        self.who = Agencies(tokens)

    async def open(self, procedure_key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.http.post(
            f"{self.intake}/v1/dossiers",
            json=body or dossier_body(procedure_key),
            headers=self.who.desk,
        )
        assert r.status_code == 201, r.text
        dossier = r.json()

        async def found() -> list[dict[str, Any]] | None:
            r = await self.http.get(
                self.base, params={"dossier_id": dossier["id"]}, headers=self.who.desk
            )
            return r.json()["items"] or None

        case = (await eventually(found))[0]
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
        r = await self.act(case, action, self.who.for_step(current, action), body)
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

    r = await eventually(resolved)
    r = await http.post(
        f"{dossier_url}/return-result", headers={**cases.who.desk, "If-Match": r.headers["ETag"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"


async def test_newborn_chain_from_submission_to_returned_result(
    cases: Cases, http: httpx.AsyncClient
) -> None:
    case = await cases.open(NEWBORN)
    # Opened as one write: the case starts at its first version, already on its first step.
    assert case["etag"] == '"1"' and case["current_step_id"] == current(case)["id"]
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

    # Three officers of three agencies, each able to act on their own step only.
    who = cases.who
    chain = {
        "birth_registration": who.justice,
        "permanent_residence": who.police,
        "health_insurance_card": who.social_insurance,
    }
    case = await walk(cases, case, "birth_registration")
    for name, own in chain.items():
        assert current(case)["name"] == name
        assert_due_on_calendar(case, current(case))
        for other_name, other in chain.items():
            if other is not own:
                r = await cases.act(case, "claim", other)
                assert r.status_code == 403, f"{other_name}'s officer claimed {name}"
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["detail_vi"] and current(case)["agency_code"] in r.json()["detail"]
        r = await cases.act(case, "claim", own)
        assert r.status_code == 200, r.text
        case = {**r.json(), "etag": r.headers["ETag"]}
        if name != "health_insurance_card":
            for other in chain.values():
                if other is not own:
                    assert (await cases.act(case, "complete", other)).status_code == 403
            r = await cases.act(case, "complete", own)
            assert r.status_code == 200, r.text
            case = {**r.json(), "etag": r.headers["ETag"]}

    agencies = [s["agency_code"] for s in case["steps"]]
    assert agencies == [
        f"motcua-{HOAN_KIEM}",
        f"tuphap-{HOAN_KIEM}",
        f"congan-{HANOI}",
        f"bhxh-{HANOI}",
    ]
    # Each step finished within seconds of starting: never late, early unless due the same day.
    for s in case["steps"][:-1]:
        assert s["timeliness"] == timeliness(ts(s["finished_at"]), ts(s["due_at"]))
        assert s["timeliness"] != "late"

    # The last step is the deciding one: it cannot be "completed"; its agency's approver
    # resolves it, not the specialist who worked it.
    r = await cases.act(case, "complete", who.social_insurance)
    assert r.status_code == 422
    result = {"result": "Giấy khai sinh, xác nhận thường trú, thẻ BHYT đã cấp"}
    r = await cases.act(case, "resolve", who.social_insurance, result)
    assert r.status_code == 403 and "approver" in r.json()["detail"]
    r = await cases.act(case, "resolve", who.approver(f"congan-{HANOI}"), result)
    assert r.status_code == 403
    case = await cases.step(case, "resolve", result)
    assert case["status"] == "resolved"
    assert case["timeliness"] == timeliness(ts(case["finished_at"]), ts(case["due_at"]))

    await return_to_applicant(cases, http, case)

    sheet = await http.get(f"{cases.base}/{case['id']}/control-sheet", headers=cases.who.desk)
    actions = [row["action"] for row in sheet.json()]
    assert actions[0] == "open" and actions[-1] == "resolve"
    assert actions.count("complete") == 3 and actions.count("claim") == 4


async def test_a_ward_justice_specialist_cannot_work_the_police_step(cases: Cases) -> None:
    case = await walk(cases, await cases.open(NEWBORN), "permanent_residence")
    justice = cases.who.justice
    r = await cases.act(case, "claim", justice)
    assert r.status_code == 403
    assert r.json()["detail"] == f"only officers of congan-{HANOI} may act on this step"
    claimed = await cases.step(case, "claim")
    assert (await cases.act(claimed, "complete", justice)).status_code == 403
    # Nor may a specialist holding no agency at all, whatever unit their token covers.
    assert (await cases.act(claimed, "complete", cases.who.province)).status_code == 403
    unchanged = await cases.read(case["id"])
    assert unchanged["version"] == claimed["version"]
    assert current(unchanged)["status"] == "in_progress"


async def test_a_case_is_resolved_or_rejected_only_at_its_deciding_step(cases: Cases) -> None:
    case = await cases.step(await cases.open(NEWBORN), "claim")  # the desk's receive step
    desk_approver = cases.who.approver(f"motcua-{HOAN_KIEM}")
    result = {"result": "Đã giải quyết"}
    r = await cases.act(case, "resolve", cases.who.desk, result)
    assert r.status_code == 403
    for action, body in (("resolve", result), ("reject", {"reason": "Không đủ điều kiện"})):
        r = await cases.act(case, action, desk_approver, body)
        assert r.status_code == 403, r.text
        assert "deciding" in r.json()["detail"] and r.json()["detail_vi"]
    assert (await cases.read(case["id"]))["status"] == "open"
    # The approver of the deciding step's agency rejects there, with a reason.
    case = await walk(cases, await cases.step(case, "complete"), "health_insurance_card")
    case = await cases.step(case, "claim")
    case = await cases.step(case, "reject", {"reason": "Trẻ đã có thẻ BHYT còn hạn"})
    assert case["status"] == "rejected"


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
    r = await cases.act(case, "complete", cases.who.tax)
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

    case = await walk(cases, case, "update_certificate")
    case = await cases.step(case, "claim")
    case = await cases.step(
        case, "resolve", {"result": "Giấy chứng nhận quyền sử dụng đất đã cập nhật biến động"}
    )
    assert case["status"] == "resolved"
    # The land office decides and signs, not the desk that received the dossier.
    assert current(case)["agency_code"] == f"vpdkdd-{HANOI}"
    await return_to_applicant(cases, http, case)


async def test_refusals_wrong_role_state_version_unit_and_missing_fields(cases: Cases) -> None:
    case = await cases.open(LAND)
    who = cases.who
    assert (await cases.act(case, "claim", who.land)).status_code == 403  # desk step
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
        cases.act(case, "claim", cases.who.land),
        cases.act(case, "claim", cases.who.other_land),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    claimed = {**winner.json(), "etag": winner.headers["ETag"]}
    loser = cases.who.other_land if winner is first else cases.who.land
    # The loser reads the new version, but the step is someone else's now.
    r = await cases.act(claimed, "complete", loser)
    assert r.status_code == 403


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
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"


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

    assert await eventually(fired) == {"step": 1, "case": 1}
    await asyncio.to_thread(stack.restart, "workflow")
    await asyncio.sleep(2)
    assert await overdue_events(database_url, case["id"]) == {"step": 1, "case": 1}

    queue = await http.get(
        f"{stack.url('workflow')}/v1/steps",
        params={"filter": "overdue", "agency_code": f"motcua-{HOAN_KIEM}"},
        headers=cases.who.desk,
    )
    assert step_id in {s["id"] for s in queue.json()["items"]}


async def test_a_procedure_without_a_route_is_decided_by_the_wards_specialist_office(
    cases: Cases, http: httpx.AsyncClient
) -> None:
    case = await cases.open("dang-ky-thuong-tru")
    assert [s["name"] for s in case["steps"]] == ["handover"]
    case = await cases.step(await cases.step(case, "claim"), "complete")
    assert current(case)["agency_code"] == f"chuyenmon-{HOAN_KIEM}"
    # The desk that handed the dossier over has no say in the examination.
    assert (await cases.act(case, "claim", cases.who.desk)).status_code == 403
    case = await cases.step(case, "claim")
    r = await cases.act(case, "resolve", cases.who.specialist, {"result": "Đã đăng ký"})
    assert r.status_code == 403
    case = await cases.step(case, "resolve", {"result": "Đã đăng ký thường trú"})
    assert case["status"] == "resolved"
    await return_to_applicant(cases, http, case)
