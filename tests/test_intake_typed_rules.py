"""Reception counts a procedure timed in hours in office hours; a supplement request's list is
kept structured on its action row; workflow's result moves the dossier through the lifecycle
table, like the desk's actions."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx

from services.stack import Infrastructure, Stack
from shared.db.engine import asyncpg_dsn
from shared.events import CaseResolved
from tests.support import Tokens, dossier_body
from tests.test_calendar_api import FixedClock, desk_app, instant, vn
from tests.test_intake_events import in_status, publish

__all__ = ["desk_app"]  # the in-process intake with a frozen clock, a fixture of this module

ITEMS = [
    {"component": "Giấy tờ chứng minh chỗ ở hợp pháp", "reason": "Bản chụp không rõ"},
    {"component": "Tờ khai thay đổi thông tin cư trú", "reason": "Thiếu chữ ký chủ hộ"},
]


async def test_a_four_working_hour_procedure_received_friday_at_three_is_due_monday_half_past_nine(
    desk_app: tuple[httpx.AsyncClient, FixedClock],
    http: httpx.AsyncClient,
    stack: Stack,
    tokens: Tokens,
) -> None:
    key = f"cap-ban-sao-4-gio-{uuid.uuid4().hex[:8]}"
    body = {
        "key": key,
        "code": "2.000908",
        "name": "Cấp bản sao trích lục hộ tịch (thử nghiệm, 4 giờ làm việc)",
        "field": "Hộ tịch",
        "level": "commune",
        "online": "full",
        "processing": {"working_days": 0.5, "working_hours": 4},
        "fees": [{"name": "Lệ phí", "amount_vnd": 8000, "online_amount_vnd": 4000}],
        "components": ["Tờ khai cấp bản sao trích lục hộ tịch"],
        "result": "Bản sao trích lục hộ tịch",
    }
    r = await http.post(f"{stack.url('intake')}/v1/procedures", json=body, headers=tokens.ops())
    assert r.status_code == 201, r.text

    client, clock = desk_app
    # Friday 6/3/2026 15:00: two office hours left that day (to 17:00), the other two on Monday
    # 9/3 from 7:30, so the result is due at 9:30 on Monday.
    clock.now = vn(2026, 3, 6, 15)
    r = await client.post(
        "/v1/dossiers",
        json=dossier_body(procedure_key=key, channel="direct"),
        headers=tokens.receptionist(),
    )
    assert r.status_code == 201, r.text
    dossier = r.json()
    assert dossier["status"] == "received" and r.headers["ETag"] == '"2"'
    assert instant(dossier["appointment_at"]) == vn(2026, 3, 9, 9, 30)
    assert dossier["fee_amount_vnd"] == 8000  # the direct channel's fee, from the typed rules


async def test_the_supplement_slip_lists_the_stored_items_whatever_the_note_says(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    officer = tokens.receptionist()
    base = f"{stack.url('intake')}/v1/dossiers"
    r = await http.post(base, json=dossier_body(channel="postal"), headers=officer)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    asked = await http.post(
        f"{base}/{code}/request-supplement",
        json={"items": ITEMS, "note": "Bổ sung trong 10 ngày làm việc"},
        headers={**officer, "If-Match": r.headers["ETag"]},
    )
    assert asked.status_code == 200, asked.text

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        stored = await conn.fetchval(
            "SELECT a.supplement FROM intake.dossier_actions a JOIN intake.dossiers d "
            "ON d.id = a.dossier_id WHERE d.code = $1 AND a.action = 'request_supplement'",
            code,
        )
        assert stored is not None
        # The readable note is rewritten; the list is not read from it.
        await conn.execute(
            "UPDATE intake.dossier_actions a SET note = 'ghi chú đã sửa' FROM intake.dossiers d "
            "WHERE d.id = a.dossier_id AND d.code = $1 AND a.action = 'request_supplement'",
            code,
        )
    finally:
        await conn.close()

    slip = await http.get(f"{base}/{code}/slips/supplement-request", headers=officer)
    assert slip.status_code == 200, slip.text
    assert slip.json()["items"] == ITEMS
    assert slip.json()["note"] == "Bổ sung trong 10 ngày làm việc"


async def test_a_resolution_event_is_a_transition_of_the_lifecycle_table(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, infra: Infrastructure, namespace: str
) -> None:
    officer = tokens.receptionist()
    base = f"{stack.url('intake')}/v1/dossiers"
    table = (await http.get(f"{base}/lifecycle")).json()
    rows = {(t["source"], t["action"], t["target"]): t["roles"] for t in table}
    assert rows[("in_processing", "resolve", "resolved")] == ["workflow"]
    assert rows[("received", "start_processing", "in_processing")] == ["workflow"]

    r = await http.post(base, json=dossier_body(), headers=officer)
    assert r.status_code == 201, r.text
    url = f"{base}/{r.json()['code']}"
    processing = await in_status(http, url, officer, "in_processing")
    opened = processing["history"][-1]
    assert (opened["action"], opened["from_status"], opened["to_status"]) == (
        "start_processing",
        "received",
        "in_processing",
    )

    resolved = CaseResolved(
        case_id=uuid.UUID(processing["case_id"]),
        dossier_id=processing["id"],
        dossier_code=processing["code"],
        unit_path=processing["unit_path"],
        outcome="approved",
        resolved_at=dt.datetime.now(dt.UTC),
        due_at=dt.datetime.fromisoformat(processing["appointment_at"]),
        result_digitised=True,
    )
    await publish(infra.bootstrap_servers, namespace, resolved)
    done = await in_status(http, url, officer, "resolved")
    last = done["history"][-1]
    assert (last["action"], last["from_status"], last["to_status"], last["actor"]) == (
        "resolve",
        "in_processing",
        "resolved",
        "workflow",
    )
    assert done["version"] == processing["version"] + 1
