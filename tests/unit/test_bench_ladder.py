"""The order in which the benchmark tries open-loop rates for the sustained-rate search: the
ladder up to the first failure, then a geometric bisection of the bracket."""

from __future__ import annotations

from bench.report import bracket, next_rate

RATES = [50.0, 100.0, 200.0, 400.0, 800.0]


def _search(capacity: float, rates: list[float] = RATES, lag: float = 200.0) -> list[float]:
    verdicts: dict[float, bool] = {}
    while (rate := next_rate(rates, lag, verdicts)) is not None:
        verdicts[rate] = rate <= capacity
    return list(verdicts)


def test_after_the_first_failure_the_bracket_is_bisected_geometrically() -> None:
    # 200 keeps up, 400 falls behind: √(200·400) ≈ 283, then √(283·400) ≈ 336, then 367.
    assert _search(370) == [200.0, 400.0, 283.0, 336.0, 367.0]
    assert _search(300) == [200.0, 400.0, 283.0, 336.0, 308.0]
    assert _search(250) == [200.0, 400.0, 283.0, 238.0, 260.0]


def test_the_printed_rate_is_within_fifteen_percent_of_the_first_that_fell_behind() -> None:
    for capacity in (60.0, 130.0, 210.0, 250.0, 300.0, 390.0, 500.0, 790.0):
        verdicts = {r: r <= capacity for r in _search(capacity)}
        edge = bracket(verdicts)
        assert edge is not None
        lo, hi = edge
        assert lo <= capacity < hi
        assert hi / lo <= 1.15, (capacity, lo, hi)


def test_the_bisection_takes_at_most_three_steps_and_stops_once_close_enough() -> None:
    assert len(_search(300)) == 2 + 3
    # 100 keeps up and 110 does not: already within 15 %, nothing to bisect.
    assert _search(105, [100.0, 110.0], 100.0) == [100.0, 110.0]


def test_below_the_lag_rate_the_search_climbs_from_the_lowest_rate_then_bisects() -> None:
    # 200 falls behind; 50 and 100 keep up; then 100 → 200 is bisected.
    assert _search(120) == [200.0, 50.0, 100.0, 141.0, 119.0, 130.0]
    assert _search(70) == [200.0, 50.0, 100.0, 71.0, 60.0, 65.0]


def test_nothing_to_bisect_when_every_rate_kept_up_or_the_lowest_fell_behind() -> None:
    assert _search(1000) == [200.0, 400.0, 800.0]
    assert _search(10) == [200.0, 50.0]
    assert bracket({50.0: False, 200.0: False}) is None
    assert bracket({50.0: True, 200.0: True}) is None


def test_a_lag_rate_outside_the_list_is_still_tried_first() -> None:
    assert next_rate(RATES, 300.0, {}) == 300.0
    assert next_rate(RATES, 300.0, {300.0: True}) == 400.0
