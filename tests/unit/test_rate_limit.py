"""The lookup's limits (in the `limits` library's memory store) and its verifier; the codes it
is keyed by."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from intake_service.domain.dossier_codes import dossier_code, dossier_tail
from intake_service.domain.rate_limit import LookupLimits, async_storage_uri
from intake_service.domain.verifier import last_four_digits, verifier_matches

CODE = "00070-261203-K7QD-M2X9"


def limits(**kwargs: int) -> LookupLimits:
    # A namespace per test: the memory store is one per process.
    return LookupLimits("memory://", namespace=uuid.uuid4().hex, **kwargs)


async def test_wrong_verifiers_lock_the_guessing_client_on_that_code_only() -> None:
    guard = limits(failures_per_code_per_hour=3)
    for _ in range(3):
        assert await guard.admit("203.0.113.5", CODE) is None
        await guard.failed("203.0.113.5", CODE)
    refusal = await guard.admit("203.0.113.5", CODE)
    assert refusal is not None and refusal.reason == "locked"
    assert 3500 <= refusal.retry_after <= 3600
    # The owner, elsewhere, and the guesser on another code are not affected.
    assert await guard.admit("198.51.100.7", CODE) is None
    assert await guard.admit("203.0.113.5", "00070-261203-AAAA-0001") is None


async def test_one_client_walking_codes_is_locked_across_codes() -> None:
    guard = limits(failures_per_code_per_hour=10, failures_per_client_per_hour=4)
    for i in range(4):
        await guard.failed("203.0.113.9", f"00070-261203-AAAA-000{i}")
    refusal = await guard.admit("203.0.113.9", "00070-261203-BBBB-0000")
    assert refusal is not None and refusal.reason == "locked"
    assert await guard.admit("203.0.113.10", "00070-261203-BBBB-0000") is None


async def test_attempts_per_minute_per_client() -> None:
    guard = limits(per_minute=2)
    assert await guard.admit("a", CODE) is None
    assert await guard.admit("a", CODE) is None
    refusal = await guard.admit("a", CODE)
    assert refusal is not None and refusal.reason == "rate" and 1 <= refusal.retry_after <= 60
    assert await guard.admit("b", CODE) is None


def test_storage_uris_take_the_async_form() -> None:
    assert async_storage_uri("memory://") == "async+memory://"
    assert async_storage_uri("redis://r:6379/0") == "async+redis://r:6379/0"
    assert async_storage_uri("async+memory://") == "async+memory://"


def test_codes_keep_the_readable_prefix_and_a_tail_that_is_not_a_counter() -> None:
    day = dt.date(2026, 12, 3)
    codes = [dossier_code("00070", day, seq) for seq in range(1, 50)]
    assert all(
        re.fullmatch(r"00070-261203-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", c) for c in codes
    )
    assert len(set(codes)) == len(codes)
    # Neighbouring sequences share no visible leading part of the tail.
    assert len({c.split("-")[2] for c in codes}) > 40
    # The sequence's bits keep two codes of one day apart even when the random bits agree.
    assert dossier_tail(1, random_bits=7) != dossier_tail(2, random_bits=7)
    assert len(dossier_code("000.70.01.H01", day, 70000)) <= 40


def test_verifier_matches_the_id_number_or_the_phone() -> None:
    assert verifier_matches("2345", "001090012345", "0912345678")
    assert verifier_matches("5678", "001090012345", "0912345678")
    assert not verifier_matches("1234", "001090012345", "0912345678")
    assert not verifier_matches("2345", None, None)
    assert not verifier_matches("----", None, None)
    assert last_four_digits("+84 912 345 678") == "5678"
    assert last_four_digits("12") is None
