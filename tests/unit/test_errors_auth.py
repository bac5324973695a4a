"""Problem details, bearer tokens and request ids, over HTTP against a small app; no database."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from shared.auth import (
    Authenticator,
    Principal,
    current_principal,
    ensure_dev_keypair,
    mint_token,
    require_roles,
    unit_scope,
)
from shared.errors import (
    PROBLEM_JSON,
    PROBLEM_RESPONSES,
    Problem,
    install_problem_handlers,
    not_found,
)
from shared.observability import health_router, install_observability
from shared.settings import ServiceSettings

SECRET_TEXT = "password=hunter2 at db.internal"


class Applicant(BaseModel):
    id_number: str = Field(min_length=12, max_length=12, pattern=r"^\d+$")
    name: str = Field(min_length=1)


class DossierIn(BaseModel):
    procedure_key: str = Field(min_length=1)
    channel: Literal["counter", "online", "post"]
    page_count: int = Field(ge=1)
    applicant: Applicant


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    private, public = ensure_dev_keypair(tmp_path_factory.mktemp("keys"))
    return private.read_bytes(), public.read_bytes()


@pytest.fixture(scope="module")
def app(keys: tuple[bytes, bytes]) -> FastAPI:
    app = FastAPI()
    app.state.authenticator = Authenticator(ServiceSettings(jwt_public_key=keys[1].decode()))
    install_problem_handlers(app)
    install_observability(app, "test")

    async def broken_check() -> None:
        raise ConnectionError("broker down")

    async def fine_check() -> None:
        return None

    app.include_router(health_router({"database": fine_check, "broker": broken_check}))

    @app.post("/dossiers", status_code=201, responses=PROBLEM_RESPONSES)
    async def create(body: DossierIn) -> dict[str, str]:
        return {"procedure_key": body.procedure_key}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET_TEXT)

    @app.get("/missing")
    async def missing() -> None:
        raise not_found("dossier", "hồ sơ")

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, str]:
        return {"sub": principal.sub}

    @app.get("/approvals")
    async def approvals(
        principal: Annotated[Principal, Depends(require_roles("approver"))],
    ) -> dict[str, str]:
        return {"sub": principal.sub}

    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, object] = response.json()
    assert problem["status"] == status
    assert str(problem["type"]).startswith("https://motcua.gov.vn/problems/")
    assert problem["title"] and problem["title_vi"]
    return problem


async def test_bad_body_lists_every_bad_field_with_a_vietnamese_message(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "channel": "fax",
        "page_count": "many",
        "applicant": {"id_number": "12ab", "name": ""},
    }
    problem = assert_problem(await client.post("/dossiers", json=body), 422)
    assert problem["type"] == "https://motcua.gov.vn/problems/validation-error"
    assert problem["instance"] == "/dossiers"
    errors = {e["field"]: e for e in problem["errors"]}  # type: ignore[attr-defined]
    assert set(errors) >= {
        "body.procedure_key",
        "body.channel",
        "body.page_count",
        "body.applicant.id_number",
        "body.applicant.name",
    }
    assert all(e["message"] and e["message_vi"] for e in errors.values())
    assert errors["body.procedure_key"]["message_vi"] == "Thiếu trường bắt buộc"
    assert errors["body.page_count"]["message_vi"] == "Phải là số nguyên"
    assert errors["body.applicant.name"]["message_vi"] == "Phải có ít nhất 1 ký tự"
    assert "hoặc" in errors["body.channel"]["message_vi"]


async def test_malformed_json_is_a_problem_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/dossiers",
        content=b'{"procedure_key": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (400, 422)
    problem = assert_problem(response, response.status_code)
    assert problem["errors"][0]["message_vi"] == "JSON không hợp lệ"  # type: ignore[index]


async def test_unexpected_error_is_a_500_problem_naming_the_request_id_without_its_text(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom")
    problem = assert_problem(response, 500)
    assert problem["type"] == "https://motcua.gov.vn/problems/internal-error"
    request_id = response.headers["x-request-id"]
    assert problem["request_id"] == request_id
    assert request_id in str(problem["detail"])
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


async def test_raised_problem_keeps_its_type_and_vietnamese_title(
    client: httpx.AsyncClient,
) -> None:
    problem = assert_problem(await client.get("/missing"), 404)
    assert problem["type"] == "https://motcua.gov.vn/problems/not-found"
    assert problem["title_vi"] == "Không tìm thấy hồ sơ"


async def test_unknown_path_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    not_found = assert_problem(await client.get("/no-such-thing"), 404)
    assert not_found["title_vi"] == "Không tìm thấy"
    response = await client.delete("/dossiers")
    problem = assert_problem(response, 405)
    assert problem["type"] == "https://motcua.gov.vn/problems/method-not-allowed"
    assert "POST" in response.headers["allow"]


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")
    problem = assert_problem(response, 401)
    assert problem["title_vi"] == "Chưa xác thực"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_non_bearer_scheme_is_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/me", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)


async def test_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/me", headers=bearer("not.a.jwt")), 401)


async def test_token_signed_with_another_key_is_401(client: httpx.AsyncClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    forged = mint_token(pem, "attacker", ["ops"])
    assert_problem(await client.get("/me", headers=bearer(forged)), 401)


async def test_token_of_another_key_family_is_401_not_500(client: httpx.AsyncClient) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        {"sub": "attacker", "roles": ["ops"], "exp": int(time.time()) + 60}, other, "ES256"
    )
    assert_problem(await client.get("/me", headers=bearer(forged)), 401)


async def test_hmac_token_using_the_public_key_as_secret_is_401(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    payload = jwt.utils.base64url_encode(
        f'{{"sub":"attacker","roles":["ops"],"exp":{int(time.time()) + 60}}}'.encode()
    )
    signature = hmac.new(keys[1], header + b"." + payload, hashlib.sha256).digest()
    forged = b".".join([header, payload, jwt.utils.base64url_encode(signature)]).decode()
    assert_problem(await client.get("/me", headers=bearer(forged)), 401)


async def test_expired_token_is_401(client: httpx.AsyncClient, keys: tuple[bytes, bytes]) -> None:
    expired = mint_token(keys[0], "cb.tiepnhan", ["receptionist"], ttl_s=-60)
    problem = assert_problem(await client.get("/me", headers=bearer(expired)), 401)
    assert "expired" in str(problem["detail"])


async def test_valid_token_gives_the_principal(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    token = mint_token(keys[0], "cb.tiepnhan", ["receptionist"], unit_path="40.412.17557")
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"sub": "cb.tiepnhan"}


async def test_wrong_role_is_403(client: httpx.AsyncClient, keys: tuple[bytes, bytes]) -> None:
    token = mint_token(keys[0], "cb.tiepnhan", ["receptionist"])
    problem = assert_problem(await client.get("/approvals", headers=bearer(token)), 403)
    assert problem["title_vi"] == "Không có quyền"


async def test_required_role_is_let_through(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    token = mint_token(keys[0], "ld.pheduyet", ["approver"])
    assert (await client.get("/approvals", headers=bearer(token))).status_code == 200


def test_issuer_and_audience_are_checked_when_configured(keys: tuple[bytes, bytes]) -> None:
    settings = ServiceSettings(
        jwt_public_key=keys[1].decode(),
        jwt_issuer="https://sso.nghean.gov.vn",
        jwt_audience="motcua",
    )
    authenticator = Authenticator(settings)
    good = mint_token(
        keys[0], "cb", ["specialist"], issuer="https://sso.nghean.gov.vn", audience="motcua"
    )
    assert authenticator.verify(good).sub == "cb"
    for bad in (
        mint_token(keys[0], "cb", ["specialist"], issuer="https://evil", audience="motcua"),
        mint_token(keys[0], "cb", ["specialist"], issuer="https://sso.nghean.gov.vn"),
    ):
        with pytest.raises(Problem) as raised:
            authenticator.verify(bad)
        assert raised.value.status == 401


def test_an_applicant_tokens_unit_claims_are_dropped(keys: tuple[bytes, bytes]) -> None:
    authenticator = Authenticator(ServiceSettings(jwt_public_key=keys[1].decode()))
    citizen = authenticator.verify(
        mint_token(keys[0], "001090012345", ["applicant"], unit="00070", unit_path="01.00070")
    )
    assert (citizen.unit, citizen.unit_path) == (None, None)
    assert citizen.applicant_ref is not None
    officer = authenticator.verify(
        mint_token(keys[0], "cb", ["applicant", "receptionist"], "00070", "01.00070")
    )
    assert (officer.unit, officer.unit_path) == ("00070", "01.00070")


def test_unknown_role_in_require_roles_fails_at_definition() -> None:
    with pytest.raises(ValueError):
        require_roles("aprover")


@pytest.mark.parametrize(
    ("unit_path", "target", "covered"),
    [
        ("40.412.17557", "40.412.17557", True),
        ("40.412", "40.412.17557", True),
        ("40", "40.412.17557", True),
        ("40.412", "40.4120", False),
        ("40.412.17557", "40.412", False),
        ("40.412", "01.412", False),
        (None, "40.412", False),
    ],
)
def test_principal_covers_its_own_unit_and_the_units_below(
    unit_path: str | None, target: str, covered: bool
) -> None:
    principal = Principal(sub="cb", roles=frozenset({"specialist"}), unit_path=unit_path)
    assert principal.covers(target) is covered


def test_ops_covers_every_unit_even_without_a_unit_path() -> None:
    assert Principal(sub="vh", roles=frozenset({"ops"})).covers("01.001.00001")


def test_unit_scope_matches_the_subtree_and_escapes_wildcards() -> None:
    from sqlalchemy import column
    from sqlalchemy.dialects import postgresql

    path = column("unit_path")
    officer = Principal(sub="cb", roles=frozenset({"receptionist"}), unit_path="40.412")
    scoped = unit_scope(path, officer)
    sql = str(scoped.compile(dialect=postgresql.dialect()))
    assert "unit_path = " in sql and "LIKE" in sql
    ops = unit_scope(path, Principal(sub="vh", roles=frozenset({"ops"})))
    assert str(ops.compile(dialect=postgresql.dialect())) == "true"
    nobody = unit_scope(path, Principal(sub="x", roles=frozenset()))
    assert str(nobody.compile(dialect=postgresql.dialect())) == "false"


def test_unit_claims_give_an_applicant_no_unit() -> None:
    """A citizen's token may carry unit claims (a portal copies the residence in); they must
    not open that subtree, while an officer's own unit still counts beside the applicant role."""
    from sqlalchemy import column
    from sqlalchemy.dialects import postgresql

    citizen = Principal(sub="001090012345", roles=frozenset({"applicant"}), unit_path="40")
    assert not citizen.covers("40") and not citizen.covers("40.412")
    scoped = unit_scope(column("unit_path"), citizen)
    assert str(scoped.compile(dialect=postgresql.dialect())) == "false"
    both = Principal(sub="cb", roles=frozenset({"applicant", "receptionist"}), unit_path="40")
    assert both.covers("40.412")


def test_dev_keypair_is_made_once(tmp_path: Path) -> None:
    private, public = ensure_dev_keypair(tmp_path)
    first = private.read_bytes(), public.read_bytes()
    assert ensure_dev_keypair(tmp_path) == (private, public)
    assert (private.read_bytes(), public.read_bytes()) == first


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"


async def test_request_id_is_made_when_absent_or_unsafe(client: httpx.AsyncClient) -> None:
    made = (await client.get("/healthz")).headers["x-request-id"]
    assert len(made) == 32
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc"


async def test_problem_carries_the_callers_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/missing", headers={"X-Request-ID": "req-42"})
    assert response.json()["request_id"] == "req-42"
    assert response.headers["x-request-id"] == "req-42"


async def test_healthz_is_ok_and_readyz_names_the_failing_check(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ConnectionError")


async def test_metrics_are_exposed_outside_the_openapi_schema(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.get("/missing")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "http_request" in metrics.text
    assert "/metrics" not in app.openapi()["paths"]


def test_problem_responses_are_documented_only_as_problem_json(app: FastAPI) -> None:
    responses = app.openapi()["paths"]["/dossiers"]["post"]["responses"]
    assert set(responses["422"]["content"]) == {PROBLEM_JSON}
    assert responses["422"]["content"][PROBLEM_JSON]["schema"]["$ref"].endswith("/ProblemModel")
    assert "application/json" in responses["201"]["content"]
