"""Pauses end to end, over HTTP on the real stack: a supplement the processing agency asks for
reaches the applicant (dossier, slip, public lookup, the national portal's change feed), the
applicant answers it online and the case resumes with its due instant moved by exactly the
paused office time; a financial obligation shows what is owed and where to pay, and paying it
through the payment service brings the dossier back to processing.

Officers' tokens carry the step's agency (the ``agency`` claim) and the step's role, as the
authority model requires. The supplement's clock is checked with workflow and intake running
in-process on the suite's database with their clocks fixed (the stack's processes consume the
events and relay the outboxes), so the pause spans a known stretch of office time whatever the
wall clock says."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from intake_service.app import create_app as create_intake
from intake_service.settings import IntakeSettings
from services.stack import Infrastructure, Stack
from shared.calendar import VN_TZ
from shared.clock import utcnow
from shared.db.engine import asyncpg_dsn
from shared.events import CasePaused, topics
from shared.events.cases import SupplementItem
from shared.events.envelope import ce_headers, encode_data, wrap
from tests.payment_support import gateway_pays, open_request, start_vnpay
from tests.support import (
    HANOI,
    HOAN_KIEM,
    Tokens,
    client_address,
    dossier_body,
    eventually,
)
from tests.test_workflow_cases import LAND, calendar, current, ts
from tests.unit.test_slips import pdf_text
from workflow_service.app import create_app as create_workflow
from workflow_service.settings import WorkflowSettings

WARD_PATH = f"{HANOI}.{HOAN_KIEM}"
PROBLEM = "application/problem+json"
ITEMS = [
    {
        "component": "Hợp đồng chuyển nhượng quyền sử dụng đất",
        "reason": "Bản sao chưa được công chứng",
    },
    {"component": "Sơ đồ thửa đất", "reason": "Thiếu xác nhận của UBND phường"},
]
DETAIL = "Bổ sung trong 15 ngày làm việc"


class FixedClock:
    """The instant an in-process app takes as "now"; the test sets it before each request."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def working_morning_after(at: dt.datetime) -> dt.datetime:
    """10:00 in Vietnam on the first working day after ``at``'s day."""
    day = calendar().next_working_day(at.astimezone(VN_TZ).date())
    return dt.datetime.combine(day, dt.time(10), tzinfo=VN_TZ)


class Chain:
    """The land chain's people: the citizen, the officer of each step's agency, an LGSP
    client; reading and acting through the stack (or an in-process app given as ``client``)."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http, self.stack, self.tokens = http, stack, tokens
        self.intake = stack.url("intake")
        self.cases = f"{stack.url('workflow')}/v1/cases"
        self.desk = tokens.bearer(
            f"cb.tiepnhan.{HOAN_KIEM}",
            ["receptionist"],
            HOAN_KIEM,
            WARD_PATH,
            agency=f"motcua-{HOAN_KIEM}",
        )
        self.lgsp = tokens.bearer("lgsp-hanoi", ["integration"], HOAN_KIEM, WARD_PATH)

    def officer(self, step: dict[str, Any]) -> dict[str, str]:
        """An officer of the step's agency holding the step's role (the desk at the ward, the
        province's offices at the province)."""
        agency = step["agency_code"]
        if step["role"] == "receptionist":
            return self.desk
        return self.tokens.bearer(f"cb.{agency}", [step["role"]], HANOI, HANOI, agency=agency)

    async def open(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.post(f"{self.intake}/v1/dossiers", json=body, headers=self.desk)
        assert r.status_code == 201, r.text
        dossier = r.json()

        async def found() -> list[dict[str, Any]] | None:
            r = await self.http.get(
                self.cases, params={"dossier_id": dossier["id"]}, headers=self.desk
            )
            return r.json()["items"] or None

        case = (await eventually(found))[0]
        return await self.read(case["id"])

    async def read(self, case_id: str) -> dict[str, Any]:
        r = await self.http.get(f"{self.cases}/{case_id}", headers=self.desk)
        assert r.status_code == 200, r.text
        return {**r.json(), "etag": r.headers["ETag"]}

    async def step(
        self,
        case: dict[str, Any],
        action: str,
        body: dict[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        headers = {**self.officer(current(case)), "If-Match": case["etag"]}
        path = f"/v1/cases/{case['id']}/{action}"
        if client is None:
            r = await self.http.post(
                f"{self.stack.url('workflow')}{path}", headers=headers, json=body
            )
        else:
            r = await client.post(path, headers=headers, json=body)
        assert r.status_code == 200, f"{action} at {current(case)['name']}: {r.text}"
        return {**r.json(), "etag": r.headers["ETag"]}

    async def walk(self, case: dict[str, Any], until: str) -> dict[str, Any]:
        while current(case)["name"] != until:
            case = await self.step(case, "claim")
            case = await self.step(case, "complete")
        return case

    async def dossier(self, code: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.get(f"{self.intake}/v1/dossiers/{code}", headers=headers)

    async def dossier_in(self, code: str, headers: dict[str, str], status: str) -> httpx.Response:
        async def probe() -> httpx.Response | None:
            r = await self.dossier(code, headers)
            assert r.status_code == 200, r.text
            return r if r.json()["status"] == status else None

        return await eventually(probe, interval=0.2)

    async def lookup(self, code: str) -> dict[str, Any]:
        r = await self.http.get(
            f"{self.intake}/v1/lookup/{code}",
            # The last digits of the applicant's phone, in the header: never in the URL.
            headers={**client_address(), "X-Lookup-Verifier": "5678"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def feed(self, code: str) -> list[tuple[str, str, int | None]]:
        """The change feed's entries for one dossier: (action, status, national code)."""
        out: list[tuple[str, str, int | None]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["after"] = cursor
            r = await self.http.get(
                f"{self.intake}/v1/integration/changes", params=params, headers=self.lgsp
            )
            assert r.status_code == 200, r.text
            page = r.json()
            out += [
                (i["action"], i["status"], i["national_status_code"])
                for i in page["items"]
                if i["dossier_code"] == code
            ]
            if not page["items"] or not page.get("next_cursor"):
                return out
            cursor = page["next_cursor"]


@pytest.fixture
def chain(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Chain:
    return Chain(http, stack, tokens)


def citizen(tokens: Tokens, body: dict[str, Any]) -> dict[str, str]:
    return tokens.bearer(body["applicant"]["id_number"], ["applicant"])


@pytest.fixture
async def fixed_apps(
    infra: Infrastructure, database_url: str, stack: Stack, namespace: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, FixedClock]]:
    """Workflow and intake in-process, answering requests only, at the clock's instant."""
    common: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": infra.bootstrap_servers,
        "topic_namespace": namespace,
        "jwt_public_key_file": stack.public_key_file,
        "consumers_enabled": False,
        "log_json": True,
    }
    workflow: FastAPI = create_workflow(WorkflowSettings(**common, timers_enabled=False))
    intake: FastAPI = create_intake(IntakeSettings(**common))
    clock = FixedClock()
    for app in (workflow, intake):
        app.dependency_overrides[utcnow] = clock
    async with (
        workflow.router.lifespan_context(workflow),
        intake.router.lifespan_context(intake),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=workflow), base_url="http://wf.test", timeout=30
        ) as wf,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=intake), base_url="http://in.test", timeout=30
        ) as ik,
    ):
        yield wf, ik, clock


async def test_a_supplement_asked_in_processing_reaches_the_applicant_who_answers_online(
    chain: Chain,
    tokens: Tokens,
    fixed_apps: tuple[httpx.AsyncClient, httpx.AsyncClient, FixedClock],
) -> None:
    wf, ik, clock = fixed_apps
    body = dossier_body(LAND)
    own = citizen(tokens, body)
    case = await chain.walk(await chain.open(body), "survey_and_check")
    code = case["dossier_code"]
    case = await chain.step(case, "claim")

    # The land registration office asks for two components at 10:00 on a working morning.
    paused_at = working_morning_after(dt.datetime.now(dt.UTC))
    clock.now = paused_at
    case = await chain.step(
        case, "request-supplement", {"reason": DETAIL, "items": ITEMS}, client=wf
    )
    assert case["status"] == "paused" and ts(case["paused_at"]) == paused_at
    case_due, step_due = ts(case["due_at"]), ts(current(case)["due_at"])

    # The citizen sees what is asked of them on their own dossier.
    waiting = (await chain.dossier_in(code, own, "awaiting_supplement")).json()
    assert waiting["status_label_vi"] == "Chờ bổ sung, hoàn thiện hồ sơ"
    pause = waiting["pause"]
    assert (pause["reason"], pause["detail"], pause["items"]) == ("supplement", DETAIL, ITEMS)
    assert ts(pause["paused_at"]) == paused_at and pause["obligation"] is None
    assert pause["agency_code"] == current(case)["agency_code"]
    last = waiting["history"][-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (
        "request_supplement",
        "in_processing",
        "awaiting_supplement",
    )

    # The supplement-request slip lists every item, as JSON and in the printed form.
    slip_url = f"{chain.intake}/v1/dossiers/{code}/slips/supplement-request"
    slip = await chain.http.get(slip_url, headers=own)
    assert slip.status_code == 200, slip.text
    assert slip.json()["items"] == ITEMS and slip.json()["during_processing"] is True
    assert slip.json()["note"] == DETAIL
    pdf = await chain.http.get(slip_url, params={"format": "pdf"}, headers=own)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    for item in ITEMS:
        assert f"{item['component']}: {item['reason']}" in text
    assert "trong quá trình giải quyết hồ sơ" in text

    # The public lookup and the national portal's change feed say so too (national code 5).
    looked = await chain.lookup(code)
    assert (looked["status"], looked["status_label_vi"]) == (
        "awaiting_supplement",
        "Chờ bổ sung, hoàn thiện hồ sơ",
    )
    assert ("request_supplement", "awaiting_supplement", 5) in await chain.feed(code)

    # The applicant answers online one working day later.
    supplied_at = working_morning_after(paused_at)
    clock.now = supplied_at
    fresh = await chain.dossier(code, own)
    answer = await ik.post(
        f"/v1/dossiers/{code}/supplement",
        headers={**own, "If-Match": fresh.headers["ETag"]},
        json={"note": "Đã nộp bản sao hợp đồng có công chứng và sơ đồ có xác nhận"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "in_processing" and answer.json()["pause"] is None

    # Workflow resumes the case at the supplement's instant: due instants move by exactly the
    # office time between the request and the answer, one working day.
    async def resumed() -> dict[str, Any] | None:
        read = await chain.read(case["id"])
        return read if read["status"] == "open" else None

    reopened = await eventually(resumed, interval=0.2)
    paused_for = calendar().working_time_between(paused_at, supplied_at)
    assert paused_for == calendar().working_day_length
    assert ts(reopened["due_at"]) == calendar().shift_by_working_time(case_due, paused_for)
    assert ts(current(reopened)["due_at"]) == calendar().shift_by_working_time(step_due, paused_for)
    sheet = await chain.http.get(f"{chain.cases}/{case['id']}/control-sheet", headers=chain.desk)
    resume = sheet.json()[-1]
    assert (resume["action"], resume["actor"]) == ("resume", "applicant")
    assert ts(resume["at"]) == supplied_at

    # Intake hears of the resume: the appointment moves with the case's due instant.
    async def appointment_moved() -> dict[str, Any] | None:
        read = (await chain.dossier(code, own)).json()
        return read if ts(read["appointment_at"]) == ts(reopened["due_at"]) else None

    moved = await eventually(appointment_moved, interval=0.2)
    assert moved["status"] == "in_processing"
    feed = await chain.feed(code)
    assert feed[-1] == ("supplement", "in_processing", 4)

    # The officer carries on from the resumed step.
    case = await chain.step(reopened, "complete")
    assert current(case)["name"] == "financial_obligation"


async def test_a_financial_obligation_shows_what_is_owed_and_paying_it_resumes_processing(
    chain: Chain, http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    body = dossier_body(LAND)
    own = citizen(tokens, body)
    case = await chain.walk(await chain.open(body), "financial_obligation")
    code = case["dossier_code"]
    case = await chain.step(case, "claim")
    case = await chain.step(
        case,
        "request-financial-obligation",
        {"reason": "Thông báo nộp lệ phí trước bạ và thuế thu nhập cá nhân", "amount_vnd": 1250000},
    )
    assert case["status"] == "paused"

    # The citizen's dossier says what is owed and which payment request to pay, once payment
    # has raised it (the two facts arrive on different topics, in either order).
    async def owed() -> dict[str, Any] | None:
        r = await chain.dossier(code, own)
        read = r.json()
        obligation = (read.get("pause") or {}).get("obligation") or {}
        return read if obligation.get("payment_request_id") else None

    waiting = await eventually(owed, interval=0.2)
    assert waiting["status"] == "awaiting_financial_obligation"
    assert waiting["status_label_vi"] == "Chờ thực hiện nghĩa vụ tài chính"
    obligation = waiting["pause"]["obligation"]
    assert (obligation["amount_vnd"], obligation["owed_vnd"], obligation["status"]) == (
        1250000,
        1250000,
        "open",
    )
    assert obligation["agency_code"] == f"thue-{HANOI}"
    request_id = obligation["payment_request_id"]
    assert obligation["payment_request_url"] == f"/v1/payment-requests/{request_id}"
    assert obligation["pay_url"] == "/v1/payments"
    request = await open_request(http, stack, own, waiting["id"], purpose="financial_obligation")
    assert request["id"] == request_id

    looked = await chain.lookup(code)
    assert looked["status"] == "awaiting_financial_obligation"
    assert (
        "request_financial_obligation",
        "awaiting_financial_obligation",
        6,
    ) in await chain.feed(code)

    # The citizen pays through the gateway; payment.succeeded resumes the case.
    payment = await start_vnpay(http, stack, own, request_id)
    paid = await gateway_pays(http, stack, payment["reference"])
    assert paid["ipn_deliveries"][0]["answer"]["RspCode"] == "00"

    async def resumed() -> dict[str, Any] | None:
        read = await chain.read(case["id"])
        return read if read["status"] == "open" else None

    reopened = await eventually(resumed, interval=0.2)
    back = (await chain.dossier_in(code, own, "in_processing")).json()
    assert back["pause"] is None
    last = back["history"][-1]
    assert (last["action"], last["from_status"]) == ("resume", "awaiting_financial_obligation")
    settled = next(r for r in back["payments"]["requests"] if r["request_id"] == request_id)

    async def paid_view() -> dict[str, Any] | None:
        read = (await chain.dossier(code, own)).json()
        row = next(r for r in read["payments"]["requests"] if r["request_id"] == request_id)
        return row if row["owed_vnd"] == 0 else None

    settled = await eventually(paid_view, interval=0.2)
    assert settled["paid_vnd"] == 1250000
    assert (await chain.feed(code))[-1] == ("resume", "in_processing", 4)
    # The case carries on after the paid step.
    case = await chain.step(reopened, "complete")
    assert current(case)["name"] == "update_certificate"


async def test_supplement_is_refused_when_none_is_awaited_and_for_anyone_but_the_parties(
    chain: Chain, tokens: Tokens
) -> None:
    body = dossier_body(LAND)
    own = citizen(tokens, body)
    case = await chain.walk(await chain.open(body), "survey_and_check")
    code = case["dossier_code"]
    processing = await chain.dossier_in(code, own, "in_processing")

    # Nothing is asked: the applicant's supplement is a 409 problem naming the state.
    early = await chain.http.post(
        f"{chain.intake}/v1/dossiers/{code}/supplement",
        headers={**own, "If-Match": processing.headers["ETag"]},
        json={"note": "Bổ sung thêm"},
    )
    assert early.status_code == 409 and early.headers["content-type"].startswith(PROBLEM)
    assert early.json()["type"].endswith("invalid-transition")
    assert "in_processing" in early.json()["detail"] and early.json()["title_vi"]

    case = await chain.step(case, "claim")
    await chain.step(case, "request-supplement", {"reason": DETAIL, "items": ITEMS[:1]})
    waiting = await chain.dossier_in(code, own, "awaiting_supplement")
    etag = waiting.headers["ETag"]
    url = f"{chain.intake}/v1/dossiers/{code}/supplement"

    # Another citizen does not even see the dossier; an integration client that did not
    # submit it may not answer for it; a document of another dossier is not a supplement.
    stranger = tokens.bearer("001099000111", ["applicant"])
    assert (await chain.http.post(url, headers={**stranger, "If-Match": etag})).status_code == 404
    foreign = await chain.http.post(url, headers={**chain.lgsp, "If-Match": etag}, json={})
    assert foreign.status_code == 403 and foreign.headers["content-type"].startswith(PROBLEM)
    unknown = await chain.http.post(
        url,
        headers={**own, "If-Match": etag},
        json={"document_ids": ["5b0e7a3c-2f4d-4c1a-9e8b-7d6c5b4a3f21"]},
    )
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("unknown-document")

    # The desk answers at the counter on the applicant's behalf; the case resumes.
    at_desk = await chain.http.post(
        url, headers={**chain.desk, "If-Match": etag}, json={"note": "Nộp bản sao tại quầy"}
    )
    assert at_desk.status_code == 200, at_desk.text
    assert at_desk.json()["status"] == "in_processing"

    async def resumed() -> dict[str, Any] | None:
        read = await chain.read(case["id"])
        return read if read["status"] == "open" else None

    reopened = await eventually(resumed, interval=0.2)

    # Intake hears of the resume, which moves the appointment (and so the version) with the
    # case's due instant when the pause lasted office time: answer against the dossier as it
    # stands then, so only the state can refuse the second answer.
    async def resume_heard() -> httpx.Response | None:
        read = await chain.dossier(code, own)
        return read if ts(read.json()["appointment_at"]) == ts(reopened["due_at"]) else None

    current_etag = (await eventually(resume_heard, interval=0.2)).headers["ETag"]
    again = await chain.http.post(url, headers={**own, "If-Match": current_etag}, json={})
    assert again.status_code == 409 and again.json()["type"].endswith("invalid-transition")


async def test_an_integration_client_answers_the_supplement_of_a_dossier_it_submitted(
    chain: Chain,
) -> None:
    body = dossier_body(LAND, channel="integration", external_id=f"HN-{uuid.uuid4().hex[:12]}")
    sent = await chain.http.post(f"{chain.intake}/v1/dossiers", json=body, headers=chain.lgsp)
    assert sent.status_code == 201, sent.text
    code = sent.json()["code"]
    received = await chain.http.post(
        f"{chain.intake}/v1/dossiers/{code}/receive",
        headers={**chain.desk, "If-Match": sent.headers["ETag"]},
    )
    assert received.status_code == 200, received.text

    async def found() -> list[dict[str, Any]] | None:
        r = await chain.http.get(
            chain.cases, params={"dossier_id": sent.json()["id"]}, headers=chain.desk
        )
        return r.json()["items"] or None

    case = await chain.read((await eventually(found))[0]["id"])
    case = await chain.walk(case, "survey_and_check")
    case = await chain.step(case, "claim")
    case = await chain.step(case, "request-supplement", {"reason": DETAIL, "items": ITEMS})
    waiting = await chain.dossier_in(code, chain.lgsp, "awaiting_supplement")
    answer = await chain.http.post(
        f"{chain.intake}/v1/dossiers/{code}/supplement",
        headers={**chain.lgsp, "If-Match": waiting.headers["ETag"]},
        json={"note": "Hồ sơ bổ sung chuyển từ Cổng dịch vụ công quốc gia"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "in_processing"

    async def resumed() -> dict[str, Any] | None:
        read = await chain.read(case["id"])
        return read if read["status"] == "open" else None

    await eventually(resumed, interval=0.2)


async def applied(database_url: str, schema: str, event_id: str) -> bool:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return bool(
            await conn.fetchval(f"SELECT 1 FROM {schema}.inbox WHERE event_id = $1", event_id)
        )
    finally:
        await conn.close()


async def test_a_pause_announced_twice_moves_the_dossier_once(
    chain: Chain, tokens: Tokens, infra: Infrastructure, namespace: str, database_url: str
) -> None:
    body = dossier_body(LAND)
    own = citizen(tokens, body)
    case = await chain.walk(await chain.open(body), "survey_and_check")
    case = await chain.step(case, "claim")
    case = await chain.step(case, "request-supplement", {"reason": DETAIL, "items": ITEMS})
    code = case["dossier_code"]
    first = (await chain.dossier_in(code, own, "awaiting_supplement")).json()

    # The same pause under a new event id (a producer retry past the inbox): nothing moves.
    again = CasePaused(
        case_id=case["id"],
        dossier_id=case["dossier_id"],
        dossier_code=code,
        unit_path=WARD_PATH,
        reason="supplement",
        detail=DETAIL,
        items=[SupplementItem(**i) for i in ITEMS],
        paused_at=ts(case["paused_at"]),
    )
    env = wrap(again, source="/motcua/workflow", subject=code)
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            namespace + topics.CASES,
            key=env.key.encode(),
            value=encode_data(env.data),
            headers=[(k, v.encode()) for k, v in ce_headers(env).items()],
        )
    finally:
        await producer.stop()
    await eventually(lambda: applied(database_url, "intake", env.id), interval=0.2)
    after = (await chain.dossier(code, own)).json()
    assert (after["version"], after["history"]) == (first["version"], first["history"])
    assert after["pause"] == first["pause"]
