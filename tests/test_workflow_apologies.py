"""Apology slips and the printed process control sheet over HTTP, against the running stack: a
case opened by a real submission, the slip stored with its event in workflow's outbox, both
documents downloadable as PDF."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import asyncpg
import httpx
import orjson
import pypdf

from shared.db.engine import asyncpg_dsn
from shared.vocabulary import TIMELINESS_LABELS_VI, Timeliness
from tests.support import HANOI
from tests.test_workflow_cases import LAND, Cases, calendar, cases, current, ts, walk

__all__ = ["cases"]  # the fixture, shared with the case tests

PDF = "application/pdf"
PROBLEM = "application/problem+json"
REASON = "Chờ kết quả đo đạc lại ranh giới thửa đất số 125, tờ bản đồ số 8"
APOLOGISED = "vn.motcua.case.apologised.v1"


def working_days_after(instant: str, days: int) -> dt.datetime:
    """The close of office hours ``days`` working days after ``instant``."""
    return calendar().add_working_days(ts(instant), days)


async def apologise(
    cases: Cases,
    case: dict[str, Any],
    headers: dict[str, str],
    new_appointment_at: dt.datetime,
    etag: str | None = None,
    reason: str = REASON,
) -> httpx.Response:
    return await cases.http.post(
        f"{cases.base}/{case['id']}/apologies",
        headers={**headers, "If-Match": etag or case["etag"]},
        json={"reason": reason, "new_appointment_at": new_appointment_at.isoformat()},
    )


async def outbox_events(database_url: str, apology_id: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT topic, convert_from(payload, 'UTF8')::jsonb AS data FROM workflow.outbox "
            "WHERE event_type = $1 AND convert_from(payload, 'UTF8')::jsonb->>'apology_id' = $2",
            APOLOGISED,
            apology_id,
        )
    finally:
        await conn.close()
    return [{"topic": r["topic"], **orjson.loads(r["data"])} for r in rows]


LAND_OFFICE = f"vpdkdd-{HANOI}"


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


async def test_an_apology_with_a_date_after_the_appointment_is_issued_logged_and_printable(
    cases: Cases, database_url: str
) -> None:
    case = await cases.open(LAND)
    new = working_days_after(case["due_at"], 3)
    r = await apologise(cases, case, cases.who.desk, new)
    assert r.status_code == 201, r.text
    slip = r.json()
    assert r.headers["ETag"] == f'"{case["version"] + 1}"'
    assert r.headers["Location"] == f"/v1/cases/{case['id']}/apologies/{slip['id']}"
    assert (slip["dossier_code"], slip["procedure_code"], slip["unit_code"]) == (
        case["dossier_code"],
        case["procedure_code"],
        case["unit_code"],
    )
    assert slip["agency_code"] == current(case)["agency_code"] == "motcua-00070"
    assert ts(slip["original_appointment_at"]) == ts(case["due_at"])
    assert ts(slip["new_appointment_at"]) == new
    assert (slip["reason"], slip["officer"]) == (REASON, "cb.tiepnhan.00070")
    assert slip["lateness"] == "will_be_late"

    # The event went to the outbox in the same transaction as the slip.
    events = await outbox_events(database_url, slip["id"])
    assert len(events) == 1
    event = events[0]
    assert event["topic"].endswith("workflow.cases.v1")
    assert (event["case_id"], event["dossier_code"]) == (case["id"], case["dossier_code"])
    assert ts(event["new_appointment_at"]) == new and ts(event["due_at"]) == ts(case["due_at"])
    assert event["overdue"] is False

    # The case is still judged on its original appointment.
    after = await cases.read(case["id"])
    assert ts(after["due_at"]) == ts(case["due_at"])
    assert after["version"] == case["version"] + 1 and after["status"] == "open"

    # A leader moves the appointment again; the list shows the latest one.
    later = working_days_after(case["due_at"], 5)
    r = await apologise(
        cases, after, cases.who.approver(LAND_OFFICE), later, reason="Chờ ý kiến của Sở Xây dựng"
    )
    assert r.status_code == 201, r.text
    listing = await cases.http.get(f"{cases.base}/{case['id']}/apologies", headers=cases.who.desk)
    assert listing.status_code == 200
    body = listing.json()
    assert [i["id"] for i in body["items"]] == [slip["id"], r.json()["id"]]
    assert ts(body["latest_new_appointment_at"]) == later
    assert ts(body["original_appointment_at"]) == ts(case["due_at"])

    url = f"{cases.base}/{case['id']}/apologies/{slip['id']}"
    as_json = await cases.http.get(url, headers=cases.who.desk)
    assert as_json.status_code == 200 and as_json.json() == slip
    printed = await cases.http.get(url, headers={**cases.who.desk, "Accept": PDF})
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == PDF
    again = await cases.http.get(url, params={"format": "pdf"}, headers=cases.who.desk)
    assert again.content == printed.content
    text = pdf_text(printed.content)
    for expected in (
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        f"Mã hồ sơ: {case['dossier_code']}",
        "ranh giới thửa đất số 125",
        "Bộ phận Một cửa (00070)",
        "trân trọng xin lỗi",
    ):
        assert expected in text, expected


async def test_refused_apologies_change_nothing(cases: Cases, database_url: str) -> None:
    case = await cases.open(LAND)
    who = cases.who
    due = ts(case["due_at"])
    later = working_days_after(case["due_at"], 2)

    # A minute before the current appointment: on its day, a working day, so the only rule the
    # new appointment breaks is being earlier (a calendar day before may fall on a Sunday).
    r = await apologise(cases, case, who.desk, due - dt.timedelta(minutes=1))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["title_vi"] and problem["title"]
    messages = {e["field"]: e["message_vi"] for e in problem["errors"]}
    assert "sau thời gian hẹn hiện tại" in messages["body.new_appointment_at"]

    r = await apologise(cases, case, who.desk, later, reason="   ")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body.reason"]

    assert (await apologise(cases, case, who.desk, later, etag='"999"')).status_code == 412
    r = await cases.http.post(
        f"{cases.base}/{case['id']}/apologies",
        headers=who.desk,
        json={"reason": REASON, "new_appointment_at": later.isoformat()},
    )
    assert r.status_code == 428
    # The first step is the desk's: a specialist of the province may not apologise for it.
    r = await apologise(cases, case, who.province, later)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    # An officer of another province does not learn the case exists.
    assert (await apologise(cases, case, who.elsewhere, later)).status_code == 404
    listing = await cases.http.get(f"{cases.base}/{case['id']}/apologies", headers=who.elsewhere)
    assert listing.status_code == 404

    unchanged = await cases.read(case["id"])
    assert unchanged["version"] == case["version"]
    listing = await cases.http.get(f"{cases.base}/{case['id']}/apologies", headers=who.desk)
    assert listing.json()["items"] == [] and listing.json()["latest_new_appointment_at"] is None
    missing = await cases.http.get(
        f"{cases.base}/{case['id']}/apologies/00000000-0000-4000-8000-000000000000",
        headers=who.desk,
    )
    assert missing.status_code == 404


async def test_a_resolved_case_gets_no_apology(cases: Cases) -> None:
    case = await walk(cases, await cases.open(LAND), "update_certificate")
    case = await cases.step(case, "claim")
    case = await cases.step(
        case, "resolve", {"result": "Đã cập nhật biến động trên giấy chứng nhận"}
    )
    assert case["status"] == "resolved"
    r = await apologise(
        cases, case, cases.who.approver(LAND_OFFICE), working_days_after(case["due_at"], 2)
    )
    assert r.status_code == 409, r.text
    assert r.json()["detail_vi"]


async def test_the_control_sheet_prints_every_handoff_with_its_verdict(cases: Cases) -> None:
    case = await walk(cases, await cases.open(LAND), "survey_and_check")
    case = await cases.step(case, "claim")
    r = await apologise(cases, case, cases.who.province, working_days_after(case["due_at"], 2))
    assert r.status_code == 201, r.text

    url = f"{cases.base}/{case['id']}/control-sheet"
    rows = (await cases.http.get(url, headers=cases.who.desk)).json()
    assert [row["action"] for row in rows] == ["open", "claim", "complete", "claim", "apologise"]
    verdict = TIMELINESS_LABELS_VI[Timeliness(rows[2]["timeliness"])]

    printed = await cases.http.get(url, headers={**cases.who.desk, "Accept": PDF})
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == PDF
    again = await cases.http.get(url, params={"format": "pdf"}, headers=cases.who.desk)
    assert again.content == printed.content
    text = pdf_text(printed.content)
    for expected in (
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        f"Mã hồ sơ: {case['dossier_code']}",
        "Tiếp nhận, chuyển xử lý",
        "Chuyển bước tiếp theo",
        "Một cửa (00070)",
        "VPĐKĐĐ (01)",
        "Xin lỗi, hẹn lại ngày trả kết quả",
        verdict,
    ):
        assert expected in text, expected
    assert text.count("Nhận xử lý") == 2
    elsewhere = await cases.http.get(url, params={"format": "pdf"}, headers=cases.who.elsewhere)
    assert elsewhere.status_code == 404
