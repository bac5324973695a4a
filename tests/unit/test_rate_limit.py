"""Sliding-window limits of the public lookup, with a clock the test moves."""

from __future__ import annotations

import pytest

from intake_service.domain.rate_limit import SlidingWindowLimiter
from intake_service.domain.verifier import last_four_digits, verifier_matches


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_says_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 60, clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    clock.now += 10
    assert limiter.hit("a") == 50


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 60, clock)
    assert limiter.hit("a") is None
    for _ in range(5):
        clock.now += 5
        limiter.hit("a")
    assert limiter.retry_after("a") == 35


def test_the_window_slides() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 60, clock)
    limiter.hit("a")
    clock.now += 30
    limiter.hit("a")
    clock.now += 30  # the first attempt leaves the window exactly now
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 30


def test_keys_are_independent() -> None:
    limiter = SlidingWindowLimiter(1, 60, FakeClock())
    assert limiter.hit("203.0.113.5") is None
    assert limiter.hit("203.0.113.6") is None
    assert limiter.hit("203.0.113.5") is not None


def test_failures_lock_a_key_for_the_window_without_counting_checks() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(10, 3600, clock)
    for _ in range(9):
        limiter.record("000.70.01.H01-240115-0001")
        assert limiter.retry_after("000.70.01.H01-240115-0001") is None
    limiter.record("000.70.01.H01-240115-0001")
    assert limiter.retry_after("000.70.01.H01-240115-0001") == 3600
    clock.now += 3600
    assert limiter.retry_after("000.70.01.H01-240115-0001") is None


def test_expired_keys_are_dropped_and_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 60, clock, max_keys=3)
    for i in range(10):
        limiter.record(f"k{i}")
    assert len(limiter) == 3
    clock.now += 61
    assert limiter.retry_after("k9") is None
    assert len(limiter) == 2


def test_rejects_a_nonsensical_configuration() -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, 60)


def test_verifier_matches_the_id_number_or_the_phone() -> None:
    assert verifier_matches("2345", "001090012345", "0912345678")
    assert verifier_matches("5678", "001090012345", "0912345678")
    assert not verifier_matches("1234", "001090012345", "0912345678")
    assert not verifier_matches("2345", None, None)
    assert not verifier_matches("----", None, None)
    assert last_four_digits("+84 912 345 678") == "5678"
    assert last_four_digits("12") is None
