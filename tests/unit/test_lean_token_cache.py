"""Remembered token verifications: the same bytes verify the same way until they expire."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared import auth
from shared.auth import Authenticator, mint_token
from shared.errors import Problem
from shared.settings import ServiceSettings


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _authenticator(keys: tuple[bytes, bytes]) -> Authenticator:
    return Authenticator(ServiceSettings(jwt_public_key=keys[1].decode()))


def test_a_verified_token_is_answered_from_memory(keys: tuple[bytes, bytes]) -> None:
    authenticator = _authenticator(keys)
    token = mint_token(keys[0], sub="officer", roles=["receptionist"], unit="1", unit_path="1")
    first = authenticator.verify(token)
    assert first.sub == "officer" and first.roles == frozenset({"receptionist"})
    # The very object, not one rebuilt by a second verification.
    assert authenticator.verify(token) is first


def test_an_expired_remembered_token_is_refused(keys: tuple[bytes, bytes]) -> None:
    authenticator = _authenticator(keys)
    token = mint_token(keys[0], sub="officer", roles=["receptionist"], ttl_s=1)
    assert authenticator.verify(token).sub == "officer"
    exp = time.time() + 1
    time.sleep(max(0.0, exp - time.time()) + 1.1)
    with pytest.raises(Problem) as refused:
        authenticator.verify(token)
    assert refused.value.status == 401
    # Refused again, not remembered as refused-then-valid.
    with pytest.raises(Problem):
        authenticator.verify(token)


def test_a_tampered_token_is_not_served_from_memory(keys: tuple[bytes, bytes]) -> None:
    authenticator = _authenticator(keys)
    token = mint_token(keys[0], sub="officer", roles=["receptionist"])
    authenticator.verify(token)
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(Problem) as refused:
        authenticator.verify(f"{head}.{payload}.{flipped}")
    assert refused.value.status == 401
    # A token signed by another key, with the same claims, is refused as well.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = mint_token(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        sub="officer",
        roles=["receptionist"],
    )
    with pytest.raises(Problem):
        authenticator.verify(forged)


def test_a_different_token_gets_its_own_principal(keys: tuple[bytes, bytes]) -> None:
    authenticator = _authenticator(keys)
    officer = mint_token(keys[0], sub="officer", roles=["receptionist"], unit="1", unit_path="1")
    ops = mint_token(keys[0], sub="ops", roles=["ops"])
    assert authenticator.verify(officer).sub == "officer"
    assert authenticator.verify(ops).sub == "ops"
    assert authenticator.verify(ops).roles == frozenset({"ops"})


def test_memory_is_bounded(keys: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "VERIFIED_TOKENS_CACHED", 2)
    authenticator = _authenticator(keys)
    tokens = [mint_token(keys[0], sub=f"officer{i}", roles=["receptionist"]) for i in range(3)]
    principals = [authenticator.verify(t) for t in tokens]
    # The two most recent are remembered; the oldest was dropped and is verified afresh.
    assert authenticator.verify(tokens[2]) is principals[2]
    assert authenticator.verify(tokens[1]) is principals[1]
    again = authenticator.verify(tokens[0])
    assert again == principals[0] and again is not principals[0]


async def test_a_slow_key_set_does_not_stall_the_event_loop(keys: tuple[bytes, bytes]) -> None:
    """Against a JWKS the key set is fetched with blocking I/O: verification runs off the loop,
    so other coroutines keep running while the identity provider takes its time."""

    public = serialization.load_pem_public_key(keys[1])
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}).encode()

    class SlowKeys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(0.6)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowKeys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        authenticator = Authenticator(ServiceSettings(jwt_jwks_url=url))
        token = jwt.encode(
            {"sub": "officer", "roles": ["receptionist"], "exp": int(time.time()) + 60},
            keys[0],
            algorithm="RS256",
            headers={"kid": "k1"},
        )
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        principal = await authenticator.verify_on_loop(token)
        ticking.cancel()
        assert principal.sub == "officer"
        # 0.6 s of fetching: a loop left free ticks many times; a blocked one not at all.
        assert ticks >= 10
    finally:
        server.shutdown()
