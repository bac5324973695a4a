"""The order in which the benchmark tries open-loop rates for the sustained-rate search."""

from __future__ import annotations

from bench.run import next_rate

RATES = [50.0, 100.0, 200.0, 400.0, 800.0]


def _search(capacity: float) -> list[float]:
    verdicts: dict[float, bool] = {}
    while (rate := next_rate(RATES, 200.0, verdicts)) is not None:
        verdicts[rate] = rate <= capacity
    return list(verdicts)


def test_the_lag_rate_comes_first_then_upward_until_the_first_failure() -> None:
    assert _search(500) == [200.0, 400.0, 800.0]
    assert _search(300) == [200.0, 400.0]
    assert _search(1000) == [200.0, 400.0, 800.0]


def test_below_the_lag_rate_the_search_climbs_from_the_lowest_rate() -> None:
    assert _search(120) == [200.0, 50.0, 100.0]
    assert _search(70) == [200.0, 50.0, 100.0]
    assert _search(10) == [200.0, 50.0]


def test_a_lag_rate_outside_the_list_is_still_tried_first() -> None:
    assert next_rate(RATES, 300.0, {}) == 300.0
    assert next_rate(RATES, 300.0, {300.0: True}) == 400.0
