"""Signed electronic results over HTTP: resolving a case issues a PAdES-signed PDF in the same
transaction as the resolution, officers of the case's units download it, and anyone can check a
copy: intact, who signed, and whether it is a result this system issued."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.stack import Infrastructure, Stack
from shared.db.engine import asyncpg_dsn
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body, personal_id
from tests.test_workflow_cases import NEWBORN, Cases, current, walk
from workflow_service.app import create_app
from workflow_service.settings import WorkflowSettings
from workflow_service.signing import DevelopmentPki

DESK_AGENCY = f"motcua-{HOAN_KIEM}"
# The newborn chain ends at social insurance's step: that agency decides and signs.
DECIDING_AGENCY = f"bhxh-{HANOI}"
DECIDING_NAME = "Bảo hiểm xã hội Thành phố Hà Nội"
RESULT_TEXT = "Cấp Giấy khai sinh số 123/2026, xác nhận thường trú và thẻ BHYT cho trẻ dưới 6 tuổi"


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


@pytest.fixture
def verify_url(stack: Stack) -> str:
    return f"{stack.url('workflow')}/v1/results/verify"


async def resolved_case(cases: Cases, body: dict[str, Any] | None = None) -> dict[str, Any]:
    case = await walk(cases, await cases.open(NEWBORN, body), "health_insurance_card")
    case = await cases.step(case, "claim")
    case = await cases.step(case, "resolve", {"result": RESULT_TEXT})
    assert case["status"] == "resolved"
    return case


async def download(cases: Cases, case: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return await cases.http.get(f"{cases.base}/{case['id']}/result", headers=headers)


async def resolved_event(database_url: str, case_id: str) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT convert_from(payload, 'UTF8')::jsonb AS data FROM workflow.outbox "
            "WHERE event_type = $1 AND convert_from(payload, 'UTF8')::jsonb->>'case_id' = $2",
            "vn.motcua.case.resolved.v1",
            case_id,
        )
    finally:
        await conn.close()
    assert len(rows) == 1
    return json.loads(rows[0]["data"])


def signed_range_end(pdf: bytes) -> int:
    """Where the first signed byte range of the PDF ends (the signature's hex follows)."""
    match = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)", pdf)
    assert match is not None
    return int(match.group(1))


async def test_a_resolved_case_has_a_signed_result_that_verifies_as_issued(
    cases: Cases, http: httpx.AsyncClient, verify_url: str, database_url: str
) -> None:
    case = await resolved_case(cases)

    r = await download(cases, case, cases.who.desk)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-")
    sha256 = hashlib.sha256(pdf).hexdigest()
    assert r.headers["ETag"] == f'"{sha256}"'
    assert case["dossier_code"] in r.headers["content-disposition"]
    again = await download(cases, case, {**cases.who.desk, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304

    r = await http.post(verify_url, content=pdf, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert (verdict["valid"], verdict["intact"], verdict["trusted"]) == (True, True, True)
    assert verdict["failure"] is None and verdict["reason_vi"] is None
    assert verdict["signer_name"] == DECIDING_NAME
    assert verdict["signer_agency"] == DECIDING_AGENCY
    assert verdict["signed_at"] is not None
    assert verdict["sha256"] == sha256
    assert verdict["known_result"] is True
    assert verdict["case_id"] == case["id"]
    assert verdict["dossier_code"] == case["dossier_code"]

    # The same file sent as a form field answers alike.
    r = await http.post(verify_url, files={"file": ("ket-qua.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True and r.json()["known_result"] is True

    event = await resolved_event(database_url, case["id"])
    assert event["outcome"] == "approved"
    assert event["result_digitised"] is True


async def test_a_copy_changed_inside_the_signed_range_is_not_intact(
    cases: Cases, http: httpx.AsyncClient, verify_url: str
) -> None:
    case = await resolved_case(cases)
    pdf = (await download(cases, case, cases.who.desk)).content
    # A byte of the page's content stream, well inside the first signed range.
    offset = pdf.index(b"stream\n") + 20
    assert offset < signed_range_end(pdf)
    changed = bytearray(pdf)
    changed[offset] ^= 0x01

    r = await http.post(
        verify_url, content=bytes(changed), headers={"Content-Type": "application/pdf"}
    )
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert verdict["valid"] is False and verdict["intact"] is False
    assert verdict["failure"] == "tampered"
    assert verdict["reason"] and verdict["reason_vi"]
    assert verdict["known_result"] is False and verdict["case_id"] is None
    assert verdict["sha256"] == hashlib.sha256(bytes(changed)).hexdigest()


async def test_files_that_are_no_signed_pdf_are_answered_not_refused(
    http: httpx.AsyncClient, verify_url: str
) -> None:
    r = await http.post(
        verify_url, content=b"GIAY KHAI SINH \x00\xff" * 50, headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert (verdict["valid"], verdict["intact"], verdict["trusted"]) == (False, False, False)
    assert verdict["failure"] == "not_pdf"
    assert verdict["reason_vi"] and verdict["known_result"] is False

    # Nothing sent is no file to judge: a validation problem, not a verdict.
    r = await http.post(verify_url, content=b"", headers={"Content-Type": "application/pdf"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.file"

    r = await http.post(verify_url, files={"tep": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["body.file"]


async def test_an_upload_over_the_limit_is_refused_with_413(
    http: httpx.AsyncClient, verify_url: str
) -> None:
    too_big = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024)
    r = await http.post(verify_url, content=too_big, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title_vi"] == "Tệp quá lớn"


async def test_a_rejection_is_issued_as_a_signed_reason_document(
    cases: Cases, http: httpx.AsyncClient, verify_url: str, database_url: str
) -> None:
    case = await cases.open(NEWBORN)
    assert current(case)["agency_code"] == DESK_AGENCY
    case = await walk(cases, case, "health_insurance_card")
    assert current(case)["agency_code"] == DECIDING_AGENCY
    case = await cases.step(case, "claim")
    case = await cases.step(
        case, "reject", {"reason": "Người yêu cầu không thuộc thẩm quyền đăng ký của phường"}
    )
    assert case["status"] == "rejected"

    pdf = (await download(cases, case, cases.who.desk)).content
    verdict = (
        await http.post(verify_url, content=pdf, headers={"Content-Type": "application/pdf"})
    ).json()
    assert verdict["valid"] is True and verdict["signer_agency"] == DECIDING_AGENCY
    assert verdict["dossier_code"] == case["dossier_code"]
    event = await resolved_event(database_url, case["id"])
    assert (event["outcome"], event["result_digitised"]) == ("rejected", True)


async def test_the_result_is_hidden_outside_the_units_and_absent_before_resolution(
    cases: Cases, stack: Stack
) -> None:
    case = await resolved_case(cases)
    assert (await download(cases, case, cases.who.elsewhere)).status_code == 404
    r = await download(cases, case, cases.who.province)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert (await download(cases, case, {})).status_code == 401

    still_open = await cases.open(NEWBORN)
    r = await download(cases, still_open, cases.who.desk)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title_vi"]


async def test_an_applicant_downloads_their_own_signed_result_and_no_one_elses(
    cases: Cases, tokens: Tokens
) -> None:
    body = dossier_body(NEWBORN)
    id_number = body["applicant"]["id_number"]
    case = await resolved_case(cases, body)
    own = tokens.bearer(id_number, ["applicant"])
    r = await download(cases, case, own)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    found = await cases.http.get(cases.base, params={"dossier_id": case["dossier_id"]}, headers=own)
    assert [c["id"] for c in found.json()["items"]] == [case["id"]]

    # Another citizen, even one whose token carries the case's unit, finds nothing.
    for other in (
        tokens.bearer(personal_id(), ["applicant"]),
        tokens.bearer(personal_id(), ["applicant"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}"),
    ):
        r = await download(cases, case, other)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        found = await cases.http.get(
            cases.base, params={"dossier_id": case["dossier_id"]}, headers=other
        )
        assert found.status_code == 200 and found.json()["items"] == []
        r = await cases.http.get(f"{cases.base}/{case['id']}", headers=other)
        assert r.status_code == 404


def test_the_result_download_is_documented_as_a_pdf() -> None:
    spec = create_app(WorkflowSettings()).openapi()
    ok = spec["paths"]["/v1/cases/{case_id}/result"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/pdf"}


@asynccontextmanager
async def workflow_in_process(
    infra: Infrastructure, database_url: str, stack: Stack, namespace: str, **signing: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Workflow built in-process on the suite's database and broker with its own signing
    configuration; the stack's workflow keeps consuming and firing timers."""
    settings = WorkflowSettings(
        database_url=database_url,
        kafka_bootstrap_servers=infra.bootstrap_servers,
        topic_namespace=namespace,
        jwt_public_key_file=stack.public_key_file,
        consumers_enabled=False,
        timers_enabled=False,
        log_json=True,
        **signing,
    )
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://workflow.test"
        ) as client:
            yield client


async def resolve_elsewhere(
    cases: Cases, client: httpx.AsyncClient
) -> tuple[dict[str, Any], httpx.Response]:
    case = await walk(cases, await cases.open(NEWBORN), "health_insurance_card")
    case = await cases.step(case, "claim")
    r = await client.post(
        f"/v1/cases/{case['id']}/resolve",
        json={"result": RESULT_TEXT},
        headers={**cases.who.approver(DECIDING_AGENCY), "If-Match": case["etag"]},
    )
    return case, r


async def test_an_agency_without_a_production_key_resolves_without_an_electronic_result(
    cases: Cases,
    infra: Infrastructure,
    database_url: str,
    stack: Stack,
    namespace: str,
    tmp_path: Path,
) -> None:
    async with workflow_in_process(
        infra, database_url, stack, namespace, signing_keys_dir=tmp_path
    ) as client:
        case, r = await resolve_elsewhere(cases, client)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    event = await resolved_event(database_url, case["id"])
    assert (event["outcome"], event["result_digitised"]) == ("approved", False)
    assert (await download(cases, case, cases.who.desk)).status_code == 404


async def test_production_keys_sign_and_only_their_own_roots_are_trusted(
    cases: Cases,
    http: httpx.AsyncClient,
    verify_url: str,
    infra: Infrastructure,
    database_url: str,
    stack: Stack,
    namespace: str,
    tmp_path: Path,
) -> None:
    # A CA of the province's own stands in for a public one; its files are laid out as ops would.
    province_ca = DevelopmentPki(tmp_path / "ca")
    credential = province_ca.agency(DECIDING_AGENCY, DECIDING_NAME)
    keys = tmp_path / "keys"
    keys.mkdir()
    shutil.copy(credential.key_file, keys / f"{DECIDING_AGENCY}.key.pem")
    shutil.copy(credential.cert_file, keys / f"{DECIDING_AGENCY}.cert.pem")
    shutil.copy(province_ca.root().cert_file, keys / f"{DECIDING_AGENCY}.chain.pem")
    async with workflow_in_process(
        infra,
        database_url,
        stack,
        namespace,
        signing_keys_dir=keys,
        signing_trust_roots_file=province_ca.root().cert_file,
    ) as client:
        case, r = await resolve_elsewhere(cases, client)
        assert r.status_code == 200, r.text
        pdf = (await download(cases, case, cases.who.desk)).content
        here = await client.post(
            "/v1/results/verify", content=pdf, headers={"Content-Type": "application/pdf"}
        )
    assert here.status_code == 200, here.text
    assert here.json()["valid"] is True
    assert here.json()["signer_name"] == DECIDING_NAME
    assert here.json()["known_result"] is True
    assert (await resolved_event(database_url, case["id"]))["result_digitised"] is True

    # The stack trusts only its development root: intact, but not from a trusted authority.
    there = (
        await http.post(verify_url, content=pdf, headers={"Content-Type": "application/pdf"})
    ).json()
    assert (there["valid"], there["intact"], there["trusted"]) == (False, True, False)
    assert there["failure"] == "untrusted"
