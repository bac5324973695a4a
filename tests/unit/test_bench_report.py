"""The benchmark's report: medians with their range over repeated runs, and tables whose
columns align whatever the width of their headers and cells."""

from __future__ import annotations

import pytest

from bench.report import Spread, table


def test_a_spread_is_the_median_with_the_min_and_max() -> None:
    s = Spread.of([3.0, 1.0, 10.0])
    assert (s.median, s.low, s.high) == (3.0, 1.0, 10.0)
    assert Spread.of([1.0, 2.0, 4.0, 10.0]).median == 3.0
    assert s.show() == "3.0 (1.0–10.0)"
    assert Spread.of([0.5, 0.75]).show(2, "%") == "0.62% (0.50–0.75)"


def test_one_value_or_equal_values_show_without_a_range() -> None:
    assert Spread.of([12.345]).show(2) == "12.35"
    assert Spread.of([7.0, 7.0, 7.0]).show() == "7.0"
    with pytest.raises(ValueError):
        Spread.of([])


def test_every_column_is_as_wide_as_its_widest_cell_and_cells_align() -> None:
    lines = table(
        ["process", "desk, 32 conns", "desk 200/s to counted"],
        [["intake", "4.48", "6.60"], ["(cores busy, rest)", "12.93 (1.00–100.25)", "0.83"]],
    )
    header, first, second = lines
    # Headers never run together: two spaces at least between them.
    assert "conns  " in header and "  desk 200/s" in header
    # Right-aligned numbers end where their header ends.
    for line in (first, second):
        assert len(line) == len(header)
    assert header.index("desk, 32 conns") + len("desk, 32 conns") == first.index("4.48") + 4
    assert second.index("12.93 (1.00–100.25)") + len("12.93 (1.00–100.25)") == first.index(
        "4.48"
    ) + len("4.48")
    assert first.startswith("  intake ")


def test_a_row_with_a_missing_cell_is_refused() -> None:
    with pytest.raises(ValueError):
        table(["a", "b"], [["x"]])
