"""What clients see at the edges: problem+json errors, auth, scoping, idempotency, docs."""

from __future__ import annotations

import uuid

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.stack import Stack
from shared.auth import mint_token
from tests.support import BA_DINH, HANOI, NGHE_AN, Tokens, dossier_body

PROBLEM = "application/problem+json"


async def test_bad_body_gets_422_problem_naming_every_bad_field(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    body = {
        "procedure_key": "",
        "unit_code": "abc",
        "channel": "fax",
        "applicant": {"kind": "citizen", "id_number": "12345", "name": ""},
    }
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers", json=body, headers=tokens.receptionist()
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["status"] == 422 and problem["title_vi"]
    fields = {e["field"] for e in problem["errors"]}
    for name in ("procedure_key", "unit_code", "channel", "applicant.id_number", "applicant.name"):
        assert any(f.endswith(name) for f in fields), (name, fields)
    assert all(e["message_vi"] for e in problem["errors"])


async def test_malformed_json_is_a_problem_not_a_500(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        content=b'{"procedure_key": ',
        headers={**tokens.receptionist(), "content-type": "application/json"},
    )
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_invalid_tax_code_is_rejected(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    body = dossier_body()
    body["applicant"] = {
        "kind": "organisation",
        "id_number": "0100109107",
        "name": "Công ty TNHH Hoa Sen",
    }
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers", json=body, headers=tokens.receptionist()
    )
    assert r.status_code == 422, r.text
    body["applicant"]["id_number"] = "0100109106"  # a real check digit
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers", json=body, headers=tokens.receptionist()
    )
    assert r.status_code == 201, r.text


async def test_missing_or_forged_token_gets_401(http: httpx.AsyncClient, stack: Stack) -> None:
    url = f"{stack.url('intake')}/v1/dossiers"
    missing = await http.post(url, json=dossier_body())
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith(PROBLEM)

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = mint_token(other_key, sub="mallory", roles=["ops"])
    for service in ("intake", "workflow", "payment", "metrics"):
        r = await http.get(
            f"{stack.url(service)}/v1/ops/dead-letters",
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert r.status_code == 401, service


async def test_officer_of_another_unit_gets_403_on_submit_and_404_on_read(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    nghe_an = tokens.bearer("cb.nghean", ["receptionist"], NGHE_AN, NGHE_AN)
    r = await http.post(f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=nghe_an)
    assert r.status_code == 403
    assert r.json()["title_vi"]

    created = await http.post(
        f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=tokens.receptionist()
    )
    code = created.json()["code"]
    assert (
        await http.get(f"{stack.url('intake')}/v1/dossiers/{code}", headers=nghe_an)
    ).status_code == 404
    # A neighbouring ward of the same province does not see it either; the province does.
    ba_dinh = tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (
        await http.get(f"{stack.url('intake')}/v1/dossiers/{code}", headers=ba_dinh)
    ).status_code == 404
    province = await http.get(
        f"{stack.url('intake')}/v1/dossiers/{code}", headers=tokens.province_officer()
    )
    assert province.status_code == 200


async def test_wrong_role_gets_403(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
    finance = tokens.bearer("cb.taichinh", ["finance"], "00070", "01.00070")
    r = await http.post(f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=finance)
    assert r.status_code == 403


async def test_idempotency_key_replays_the_first_answer_and_rejects_another_body(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    headers = {**tokens.receptionist(), "Idempotency-Key": "lgsp-2026-000123"}
    body = dossier_body(channel="integration")
    first = await http.post(f"{stack.url('intake')}/v1/dossiers", json=body, headers=headers)
    again = await http.post(f"{stack.url('intake')}/v1/dossiers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"]
    other = await http.post(
        f"{stack.url('intake')}/v1/dossiers", json=dossier_body(), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")


async def test_unknown_procedure_and_unit_are_field_errors(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        json=dossier_body("khong-co"),
        headers=tokens.receptionist(),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.procedure_key"
    r = await http.post(
        f"{stack.url('intake')}/v1/dossiers",
        json=dossier_body(unit_code="99999"),
        headers=tokens.receptionist(),
    )
    assert r.status_code == 422


async def test_every_service_serves_docs_health_metrics_and_asyncapi(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    for service in ("intake", "workflow", "payment", "metrics"):
        base = stack.url(service)
        assert (await http.get(f"{base}/healthz")).json() == {"status": "ok"}
        ready = await http.get(f"{base}/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "consumer": "ok",
        }
        assert (await http.get(f"{base}/docs")).status_code == 200
        openapi = (await http.get(f"{base}/openapi.json")).json()
        assert openapi["paths"]
        asyncapi = (await http.get(f"{base}/asyncapi.json")).json()
        assert "intake.dossiers.v1" in asyncapi["channels"]
        metrics = await http.get(f"{base}/metrics")
        assert "http_request" in metrics.text or "python_info" in metrics.text


async def test_request_id_is_echoed(http: httpx.AsyncClient, stack: Stack) -> None:
    r = await http.get(f"{stack.url('intake')}/v1/procedures", headers={"X-Request-ID": "abc123"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "abc123"
    assert any(p["key"] == "dang-ky-khai-sinh" for p in r.json()["items"])


SERVICES = ("intake", "workflow", "payment", "metrics")
# Names that would put a credential or a personal number into a URL, which proxies and access
# logs keep.
SECRET_NAMES = ("verifier", "id_number", "phone", "personal_id", "cccd")


async def _openapi(http: httpx.AsyncClient, stack: Stack, service: str) -> dict:
    r = await http.get(f"{stack.url(service)}/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method.upper(), operation


async def test_the_openapi_documents_what_the_services_answer(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    for service in SERVICES:
        doc = await _openapi(http, stack, service)
        for path, method, operation in _operations(doc):
            label = f"{service} {method} {path}"
            responses = operation["responses"]
            for parameter in operation.get("parameters", []):
                if parameter["name"].lower() == "if-match" and "428" in responses:
                    assert parameter.get("required") is True, label
                if parameter["in"] in ("path", "query"):
                    assert not any(s in parameter["name"].lower() for s in SECRET_NAMES), label
            if operation.get("requestBody"):
                assert {"413", "415", "422"} <= set(responses), label
            for response in responses.values():
                pdf = (response.get("content") or {}).get("application/pdf")
                if pdf is not None:
                    assert pdf["schema"] == {"type": "string", "format": "binary"}, label
            assert not any(s in path.lower() for s in SECRET_NAMES), label
    intake = await _openapi(http, stack, "intake")
    submit = intake["paths"]["/v1/dossiers"]["post"]["responses"]
    assert {"200", "201"} <= set(submit)
    qr_lookup = intake["paths"]["/v1/lookup/{code}"]["get"]
    (header,) = [p for p in qr_lookup["parameters"] if p["in"] == "header"]
    assert header["name"] == "X-Lookup-Verifier" and header["required"] is True
    assert "requestBody" in intake["paths"]["/v1/lookup"]["post"]


async def test_a_repeated_submission_answers_200_as_documented(
    http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    headers = tokens.bearer("lgsp-hanoi", ["integration"], "00070", f"{HANOI}.00070")
    body = dossier_body(channel="integration", external_id=f"HN-{uuid.uuid4().hex[:12]}")
    first = await http.post(f"{stack.url('intake')}/v1/dossiers", json=body, headers=headers)
    again = await http.post(f"{stack.url('intake')}/v1/dossiers", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["code"] == first.json()["code"]
