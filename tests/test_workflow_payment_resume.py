"""A case paused for a financial obligation resumes when payment announces it was paid: the due
instants move by the office time between the pause and the payment, the control sheet shows
who resumed it, and redelivered or unrelated payments change nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.stack import Infrastructure, Stack
from shared.calendar import VN_TZ
from shared.db.engine import asyncpg_dsn
from shared.events import PaymentSucceeded, topics
from shared.events.envelope import Envelope, ce_headers, encode_data, wrap
from tests.support import Tokens, eventually
from tests.test_workflow_cases import LAND, WARD_PATH, Cases, calendar, current, ts, walk


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


async def publish(bootstrap: str, namespace: str, env: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            namespace + topics.PAYMENTS,
            key=env.key.encode(),
            value=encode_data(env.data),
            headers=[(k, v.encode()) for k, v in ce_headers(env).items()],
        )
    finally:
        await producer.stop()


async def applied(database_url: str, event_id: str) -> bool:
    """Whether workflow's consumer has taken the event (the inbox row is written in the
    transaction that applies it)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return bool(
            await conn.fetchval("SELECT 1 FROM workflow.inbox WHERE event_id = $1", event_id)
        )
    finally:
        await conn.close()


def payment(case: dict[str, Any], purpose: str, paid_at: dt.datetime) -> PaymentSucceeded:
    return PaymentSucceeded(
        payment_id=uuid.uuid4(),
        dossier_id=case["dossier_id"],
        dossier_code=case["dossier_code"],
        unit_path=WARD_PATH,
        purpose=purpose,  # type: ignore[arg-type]
        amount_vnd=1_250_000,
        online=True,
        paid_at=paid_at,
    )


def next_working_morning(after: dt.datetime) -> dt.datetime:
    """10:00 on the first working day after ``after``'s day, in Vietnam."""
    day = calendar().next_working_day(after.astimezone(VN_TZ).date())
    return dt.datetime.combine(day, dt.time(10), tzinfo=VN_TZ)


async def test_paying_the_financial_obligation_resumes_the_case_once(
    cases: Cases, infra: Infrastructure, namespace: str, database_url: str
) -> None:
    case = await walk(cases, await cases.open(LAND), "financial_obligation")
    case = await cases.step(case, "claim")
    case = await cases.step(
        case,
        "request-financial-obligation",
        {"reason": "Thông báo nộp lệ phí trước bạ và thuế thu nhập cá nhân", "amount_vnd": 1250000},
    )
    assert case["status"] == "paused" and case["pause_reason"] == "financial_obligation"
    paused_at = ts(case["paused_at"])
    case_due, step_due = ts(case["due_at"]), ts(current(case)["due_at"])
    bootstrap = infra.bootstrap_servers

    # The procedure's fee being paid is not the obligation: the case stays paused.
    fee = wrap(
        payment(case, "fee", paused_at), source="/motcua/payment", subject=case["dossier_code"]
    )
    await publish(bootstrap, namespace, fee)
    await eventually(lambda: applied(database_url, fee.id), interval=0.2)
    still = await cases.read(case["id"])
    assert (still["status"], still["version"]) == ("paused", case["version"])

    # The run's wall clock may be outside office hours, so the payment names an instant with
    # office time after the pause: the treasury's receipt at 10:00 the next working day.
    paid_at = next_working_morning(paused_at)
    paid = payment(case, "financial_obligation", paid_at)
    env = wrap(paid, source="/motcua/payment", subject=case["dossier_code"])
    await publish(bootstrap, namespace, env)

    async def reopened() -> dict[str, Any] | None:
        read = await cases.read(case["id"])
        return read if read["status"] == "open" else None

    resumed = await eventually(reopened, interval=0.2)
    assert resumed["paused_at"] is None and resumed["pause_reason"] is None
    assert resumed["version"] == case["version"] + 1
    paused_for = calendar().working_time_between(paused_at, paid_at)
    assert paused_for > dt.timedelta(0)
    assert ts(resumed["due_at"]) == calendar().shift_by_working_time(case_due, paused_for)
    assert ts(current(resumed)["due_at"]) == calendar().shift_by_working_time(step_due, paused_for)
    assert ts(resumed["due_at"]) > case_due

    sheet_url = f"{cases.base}/{case['id']}/control-sheet"
    sheet = (await cases.http.get(sheet_url, headers=cases.who.desk)).json()
    last = sheet[-1]
    assert (last["action"], last["actor"], last["step"]) == (
        "resume",
        "payment",
        "financial_obligation",
    )
    assert ts(last["at"]) == paid_at

    # The same message redelivered, then the same payment announced again under a new id:
    # neither moves the case.
    await publish(bootstrap, namespace, env)
    again = wrap(paid, source="/motcua/payment", subject=case["dossier_code"])
    await publish(bootstrap, namespace, again)
    # One dossier's events share a partition, so once the later one is applied both were taken.
    await eventually(lambda: applied(database_url, again.id), interval=0.2)
    after = await cases.read(case["id"])
    assert after["version"] == resumed["version"]
    assert (after["due_at"], after["steps"]) == (resumed["due_at"], resumed["steps"])
    sheet_after = (await cases.http.get(sheet_url, headers=cases.who.desk)).json()
    assert len(sheet_after) == len(sheet)

    # The officer carries on from the resumed step, and the land office decides at the last.
    case = await cases.step(after, "complete")
    assert current(case)["name"] == "update_certificate"
    case = await cases.step(await cases.step(case, "claim"), "resolve", {"result": "Đã cập nhật"})
    assert case["status"] == "resolved"
