"""A dossier posted to intake travels through the broker to workflow, payment and metrics."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from services.stack import Stack
from tests.payment_support import fetch
from tests.support import HANOI, HOAN_KIEM, PIPELINE_WAIT_S, Tokens, dossier_body, eventually


async def received_count(http: httpx.AsyncClient, stack: Stack, tokens: Tokens, unit: str) -> dict:
    period = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%Y-%m")
    r = await http.get(
        f"{stack.url('metrics')}/v1/indicators/received",
        params={"unit_code": unit, "period": period},
        headers=tokens.province_officer(),
    )
    assert r.status_code == 200, r.text
    return r.json()


async def counted_by_metrics(database_url: str, dossier_id: str) -> bool:
    """Whether metrics has counted the dossier's receipt: its fact and the counters move in one
    transaction, so once the fact shows it the counters include it. (Comparing the counters
    with a snapshot alone would race with earlier tests' events still being counted.)"""
    return bool(
        await fetch(
            database_url,
            "SELECT 1 FROM metrics.dossier_facts WHERE dossier_id = $1 AND received_at IS NOT NULL",
            dossier_id,
        )
    )


async def test_posted_dossier_becomes_case_payment_request_and_count(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    officer = tokens.receptionist()
    before = await received_count(http, stack, tokens, HANOI)

    r = await http.post(f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=officer)
    assert r.status_code == 201, r.text
    dossier = r.json()
    assert dossier["status"] == "received"
    assert dossier["fee_amount_vnd"] == 20000
    assert dossier["code"].startswith(f"{HOAN_KIEM}-")
    assert r.headers["ETag"] == '"2"'  # submitted, then received on the spot

    async def case() -> list:
        res = await http.get(
            f"{stack.url('workflow')}/v1/cases",
            params={"dossier_id": dossier["id"]},
            headers=officer,
        )
        return res.json()["items"]

    async def fee_request() -> list:
        res = await http.get(
            f"{stack.url('payment')}/v1/payment-requests",
            params={"dossier_id": dossier["id"]},
            headers=officer,
        )
        return res.json()["items"]

    cases, fees, _ = await asyncio.gather(
        eventually(case, timeout=PIPELINE_WAIT_S),
        eventually(fee_request, timeout=PIPELINE_WAIT_S),
        eventually(
            lambda: counted_by_metrics(database_url, dossier["id"]), timeout=PIPELINE_WAIT_S
        ),
    )
    assert len(cases) == 1 and cases[0]["dossier_code"] == dossier["code"]
    assert fees[0]["amount_vnd"] == 20000 and fees[0]["status"] == "open"
    count = await received_count(http, stack, tokens, HANOI)
    assert count["received"] >= before["received"] + 1
    assert count["received_by_channel"]["direct"] >= before["received_by_channel"]["direct"] + 1

    # Intake's status view follows workflow and payment.
    async def in_processing() -> dict | None:
        res = await http.get(
            f"{stack.url('intake')}/v1/dossiers/{dossier['code']}", headers=officer
        )
        body = res.json()
        return body if body["status"] == "in_processing" and body["fee_request_id"] else None

    view = await eventually(in_processing, timeout=PIPELINE_WAIT_S)
    assert view["case_id"] == cases[0]["id"]
    assert [a["to_status"] for a in view["history"]] == ["submitted", "received", "in_processing"]


async def test_dossier_without_fee_gets_no_payment_request(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    officer = tokens.receptionist()
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        json=dossier_body("dang-ky-khai-sinh"),
        headers=officer,
    )
    assert r.status_code == 201, r.text
    dossier = r.json()

    async def case() -> list:
        res = await http.get(
            f"{stack.url('workflow')}/v1/cases",
            params={"dossier_id": dossier["id"]},
            headers=officer,
        )
        return res.json()["items"]

    await eventually(case, timeout=PIPELINE_WAIT_S)
    fees = await http.get(
        f"{stack.url('payment')}/v1/payment-requests",
        params={"dossier_id": dossier["id"]},
        headers=officer,
    )
    assert fees.json()["items"] == []


async def test_online_submission_counts_toward_online_rate(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, database_url: str
) -> None:
    citizen_id = "001203004005"
    citizen = tokens.bearer(citizen_id, ["applicant"])
    before = await received_count(http, stack, tokens, HANOI)
    body = dossier_body(channel="online")
    body["applicant"]["id_number"] = citizen_id
    r = await http.post(f"{stack.url('intake')}/v1/dossiers", json=body, headers=citizen)
    assert r.status_code == 201, r.text
    assert r.json()["fee_amount_vnd"] == 10000  # the online fee of this procedure
    assert r.json()["status"] == "submitted"  # awaits the desk's check
    received = await http.post(
        f"{stack.url('intake')}/v1/dossiers/{r.json()['code']}/receive",
        headers={**tokens.receptionist(), "If-Match": r.headers["ETag"]},
    )
    assert received.status_code == 200, received.text

    await eventually(
        lambda: counted_by_metrics(database_url, r.json()["id"]), timeout=PIPELINE_WAIT_S
    )
    after = await received_count(http, stack, tokens, HANOI)
    assert after["received_by_channel"]["online"] >= before["received_by_channel"]["online"] + 1
    rate = after["online_rate"]
    assert rate["numerator"] == after["received_by_channel"]["online"]
    assert rate["denominator"] == after["received"]

    # The citizen sees their own dossier, not others'.
    own = await http.get(f"{stack.url('intake')}/v1/dossiers/{r.json()['code']}", headers=citizen)
    assert own.status_code == 200
    other = await http.post(
        f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=tokens.receptionist()
    )
    hidden = await http.get(
        f"{stack.url('intake')}/v1/dossiers/{other.json()['code']}", headers=citizen
    )
    assert hidden.status_code == 404
