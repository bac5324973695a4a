"""PostgreSQL's counters over a benchmark window: the difference of two readings."""

from __future__ import annotations

from bench.pgstats import Counts


def test_a_window_is_the_difference_per_schema_and_a_new_schema_counts_from_zero() -> None:
    before = Counts(100, {"intake": 40, "metrics": 7})
    after = Counts(160, {"intake": 70, "metrics": 7, "floor": 12})
    window = after.minus(before)
    assert window.commits == 60
    assert window.rows == {"intake": 30, "metrics": 0, "floor": 12}
