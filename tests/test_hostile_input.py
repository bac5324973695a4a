"""Hostile input over HTTP, in all four services: each answers a 4xx problem (Vietnamese beside
the English), never a 500, and writes nothing; the legitimate request after it still works."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.stack import Stack
from shared.errors import invalid_value
from shared.errors.handlers import _is_data_error
from tests.support import Tokens, dossier_body

PROBLEM = "application/problem+json"
SERVICES = ("intake", "workflow", "payment", "metrics")


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and body["title_vi"]
    return body


def procedure(key: str, fee: int) -> dict[str, Any]:
    return {
        "key": key,
        "code": "1.009998",
        "name": "Thủ tục thử nghiệm dữ liệu xấu",
        "field": "Thử nghiệm",
        "level": "commune",
        "online": "full",
        "processing": {"working_days": 3},
        "fees": [{"name": "Lệ phí", "amount_vnd": fee}],
        "components": ["Tờ khai"],
    }


async def test_nul_in_a_name_is_refused_and_nothing_is_written(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    base = stack.url("intake")
    body = dossier_body()
    body["applicant"]["name"] = "Nguyễn\x00 Thị Lan"
    r = await http.post(f"{base}/v1/dossiers", json=body, headers=tokens.receptionist())
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["field"] == "body.applicant.name"
    assert problem["errors"][0]["message_vi"]
    listed = await http.get(
        f"{base}/v1/dossiers", params={"limit": 200}, headers=tokens.receptionist()
    )
    assert listed.status_code == 200
    assert all("\x00" not in d.get("applicant_name", "") for d in listed.json()["items"])
    # The same applicant with a clean name is received.
    body["applicant"]["name"] = "Nguyễn Thị Lan"
    ok = await http.post(f"{base}/v1/dossiers", json=body, headers=tokens.receptionist())
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize("service", SERVICES)
async def test_control_characters_in_paths_and_queries_are_422_everywhere(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, service: str
) -> None:
    base = stack.url(service)
    # Unauthenticated routes too: the guard runs before any of them.
    in_query = await http.get(f"{base}/v1/ops/dead-letters?pending_only=%00")
    assert assert_problem(in_query, 422)["errors"][0]["field"] == "query.pending_only"
    in_path = await http.get(f"{base}/v1/ops/dead-letters/%00abc/replay", headers=tokens.ops())
    assert in_path.status_code in (405, 422), in_path.text
    escaped = await http.post(
        f"{base}/v1/ops/dead-letters/1/replay",
        content=b'{"note": "a\\u0000b"}',
        headers={**tokens.ops(), "Content-Type": "application/json"},
    )
    assert assert_problem(escaped, 422)["errors"][0]["field"] == "body.note"


async def test_nul_in_the_public_lookup_is_422_not_500(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    base = stack.url("intake")
    r = await http.get(f"{base}/v1/lookup/abc%00def", headers={"X-Lookup-Verifier": "1234"})
    assert_problem(r, 422)
    r = await http.post(f"{base}/v1/lookup", json={"code": "abc\u0000", "verifier": "1234"})
    assert_problem(r, 422)


@pytest.mark.parametrize("service", SERVICES)
async def test_oversized_dead_letter_cursor_is_422(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, service: str
) -> None:
    base = stack.url(service)
    r = await http.get(
        f"{base}/v1/ops/dead-letters",
        params={"cursor": "99999999999999999999"},
        headers=tokens.ops(),
    )
    assert assert_problem(r, 422)["errors"][0]["field"] == "query.cursor"
    r = await http.post(
        f"{base}/v1/ops/dead-letters/99999999999999999999/replay", headers=tokens.ops()
    )
    assert_problem(r, 422)
    ok = await http.get(f"{base}/v1/ops/dead-letters", params={"cursor": "5"}, headers=tokens.ops())
    assert ok.status_code == 200


async def test_malformed_opaque_cursors_are_problems(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    officer, ops = tokens.province_officer(), tokens.ops()
    # One list contract: whichever list, a cursor it did not issue is the 422 naming it.
    for url, headers in (
        (f"{stack.url('intake')}/v1/dossiers", officer),
        (f"{stack.url('intake')}/v1/procedures", officer),
        (f"{stack.url('workflow')}/v1/steps", officer),
        (f"{stack.url('workflow')}/v1/cases", officer),
        (f"{stack.url('payment')}/v1/payment-requests", officer),
        (f"{stack.url('metrics')}/v1/ops/dead-letters", ops),
    ):
        for cursor in ("99999999999999999999", "MjAyNi0xMi0wM3xub3QtYS11dWlk", "%%%"):
            r = await http.get(url, params={"cursor": cursor}, headers=headers)
            if url.endswith("dead-letters") and cursor.isdigit():
                continue  # a plain id is a dead-letter cursor (one beyond BIGINT: see above)
            assert r.status_code == 422, (url, cursor, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.json()["errors"][0]["field"] == "query.cursor", (url, cursor, r.text)


async def test_a_fee_of_ten_to_the_thirty_is_refused_and_later_submissions_work(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    base = stack.url("intake")
    key = f"xau-{uuid.uuid4().hex[:8]}"
    r = await http.post(f"{base}/v1/procedures", json=procedure(key, 10**30), headers=tokens.ops())
    assert assert_problem(r, 422)["errors"][0]["field"] == "body.fees.0.amount_vnd"
    assert (await http.get(f"{base}/v1/procedures/{key}")).status_code == 404
    created = await http.post(
        f"{base}/v1/procedures", json=procedure(key, 25000), headers=tokens.ops()
    )
    assert created.status_code == 201, created.text
    submitted = await http.post(
        f"{base}/v1/dossiers", json=dossier_body(procedure_key=key), headers=tokens.receptionist()
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["fee_amount_vnd"] == 25000


@pytest.mark.parametrize(
    "query",
    [
        {"from": "9999-12-31T16:30:00+07:00", "working_days": 5},
        {"from": "0001-01-01T00:00:00+00:00", "working_days": 5},
        {"from": "2100-12-31T23:00:00-05:00", "working_days": 5},
    ],
)
async def test_dates_outside_the_calendar_are_422(
    http: httpx.AsyncClient, stack: Stack, query: dict[str, Any]
) -> None:
    r = await http.get(f"{stack.url('intake')}/v1/calendar/deadline", params=query)
    assert assert_problem(r, 422)["errors"][0]["field"] == "query.from"
    ok = await http.get(
        f"{stack.url('intake')}/v1/calendar/deadline",
        params={"from": "2026-04-24T16:30:00+07:00", "working_days": 5},
    )
    assert ok.status_code == 200, ok.text


async def test_report_days_outside_the_range_are_422(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    finance = tokens.bearer("kt.tinh", ["finance"], "01", "01")
    base = stack.url("payment")
    for url, params in (
        (f"{base}/v1/reconciliations", {"day_from": "9999-12-31"}),
        (f"{base}/v1/cash-closes", {"day": "0001-01-01"}),
    ):
        r = await http.get(url, params=params, headers=finance)
        field = next(iter(params))
        assert assert_problem(r, 422)["errors"][0]["field"] == f"query.{field}"


@pytest.mark.parametrize("service", SERVICES)
async def test_a_json_body_over_the_cap_is_413(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens, service: str
) -> None:
    big = b'{"note": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = await http.post(
        f"{stack.url(service)}/v1/ops/dead-letters/1/replay",
        content=big,
        headers={**tokens.ops(), "Content-Type": "application/json"},
    )
    body = assert_problem(r, 413)
    assert body["detail_vi"]
    # Under another media type the body is not read whole first either.
    r = await http.post(
        f"{stack.url(service)}/v1/ops/dead-letters/1/replay",
        content=big,
        headers={**tokens.ops(), "Content-Type": "text/plain"},
    )
    assert_problem(r, 413)


async def test_a_json_route_given_another_media_type_is_415(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    body = dossier_body()
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        content=httpx.Request("POST", "/", json=body).content,
        headers={**tokens.receptionist(), "Content-Type": "text/plain"},
    )
    assert_problem(r, 415)


async def test_405_names_every_method_of_the_path(http: httpx.AsyncClient, stack: Stack) -> None:
    r = await http.request("DELETE", f"{stack.url('intake')}/v1/dossiers")
    assert_problem(r, 405)
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    r = await http.options(f"{stack.url('intake')}/v1/dossiers")
    assert r.status_code == 405 and {"GET", "POST"} <= set(
        m.strip() for m in r.headers["allow"].split(",")
    )


async def test_an_empty_verify_is_422(http: httpx.AsyncClient, stack: Stack) -> None:
    r = await http.post(f"{stack.url('workflow')}/v1/results/verify", content=b"")
    assert_problem(r, 422)


async def test_a_feed_cursor_naming_a_position_beyond_bigint_is_a_bad_cursor(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    lgsp = tokens.bearer("lgsp-hanoi", ["integration"], "00070", "01.00070")
    forged = (
        base64.urlsafe_b64encode(json.dumps({"v": 1, "a": 2**63}).encode()).decode().rstrip("=")
    )
    r = await http.get(
        f"{stack.url('intake')}/v1/integration/changes", params={"after": forged}, headers=lgsp
    )
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("bad-cursor")


async def test_a_value_the_database_refuses_answers_422_and_rolls_back(database_url: str) -> None:
    """The net under every bound: an out-of-range number or a NUL that reaches PostgreSQL is
    classed as the client's data (SQLSTATE class 22, or the driver's refusal to send it)."""
    engine = create_async_engine(database_url)
    caught: list[BaseException] = []
    try:
        for statement, value in (
            ("select cast(:v as bigint)", 10**30),  # refused by the driver
            ("select cast(:v as text)", "a\x00b"),  # refused by the server
            ("select cast(:v as date)", "9999-99-99"),
        ):
            async with engine.connect() as conn:
                try:
                    await conn.execute(text(statement), {"v": value})
                except Exception as exc:  # the error itself is the subject here
                    caught.append(exc)
    finally:
        await engine.dispose()
    assert len(caught) == 3
    assert all(_is_data_error(exc) for exc in caught), [type(e) for e in caught]
    assert not _is_data_error(RuntimeError("a bug is still a bug"))
    problem = invalid_value()
    assert problem.status == 422 and problem.title_vi and problem.detail_vi


async def test_a_single_valued_parameter_given_twice_is_422(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    """Otherwise the last value would silently win (``?limit=5&limit=500``)."""
    url = f"{stack.url('intake')}/v1/dossiers?limit=5&limit=6"
    r = await http.get(url, headers=tokens.receptionist())
    assert assert_problem(r, 422)["errors"][0]["field"] == "query.limit"
    ok = await http.get(f"{stack.url('intake')}/v1/dossiers?limit=5", headers=tokens.receptionist())
    assert ok.status_code == 200
