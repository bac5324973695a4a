"""Remembered token verifications: the same bytes verify the same way until they expire."""

from __future__ import annotations

import time

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
