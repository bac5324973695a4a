"""Pure helpers of the benchmark's report: the sustained-rate search, medians over repeated
runs, and tables whose columns are as wide as their widest cell."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The bisection after the ladder stops once the highest rate that kept up is within this
# factor of the lowest that fell behind (the printed rate is then within ~15 % of the edge) ...
BISECT_PRECISION = 1.15
# ... or after this many extra steps, which bounds the run time (200 → 400 needs three).
BISECT_STEPS = 3


def bracket(verdicts: Mapping[float, bool]) -> tuple[float, float] | None:
    """(highest rate that kept up, lowest rate above it that fell behind), or None while one of
    the two is missing."""
    kept = [r for r, ok in verdicts.items() if ok]
    if not kept:
        return None
    lo = max(kept)
    behind = [r for r, ok in verdicts.items() if not ok and r > lo]
    return (lo, min(behind)) if behind else None


def next_rate(
    rates: Sequence[float],
    lag_rate: float,
    verdicts: Mapping[float, bool],
    precision: float = BISECT_PRECISION,
    max_steps: int = BISECT_STEPS,
) -> float | None:
    """The next open-loop rate to try given the verdicts so far (rate → kept up), or None.

    The lag rate first, on a quiet system (it is the lag figure); then upward over ``rates``
    from it while the pipeline keeps up, or, when it fell behind there, upward from the lowest
    rate, until one falls behind. Then a geometric bisection between the highest rate that kept
    up and the lowest that fell behind, until they are within ``precision`` of each other or
    ``max_steps`` bisection steps were taken.
    """
    if lag_rate not in verdicts:
        return lag_rate
    above = verdicts[lag_rate]
    ladder = sorted(rates)
    for rate in ladder:
        if (rate > lag_rate) if above else (rate < lag_rate):
            if rate not in verdicts:
                return rate
            if not verdicts[rate]:
                break
    edge = bracket(verdicts)
    if edge is None:
        return None
    lo, hi = edge
    taken = sum(1 for r in verdicts if r not in ladder and r != lag_rate)
    if taken >= max_steps or hi / lo <= precision:
        return None
    mid = float(round(math.sqrt(lo * hi)))
    return mid if lo < mid < hi and mid not in verdicts else None


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("spread of no values")
        return cls(statistics.median(values), min(values), max(values))

    def show(self, digits: int = 1, unit: str = "") -> str:
        """``12.3`` for one value (or all equal), else ``12.3 (11.9–13.0)``."""
        m = f"{self.median:.{digits}f}{unit}"
        lo, hi = f"{self.low:.{digits}f}", f"{self.high:.{digits}f}"
        return m if lo == hi else f"{m} ({lo}–{hi})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Lines of a table: the first column left-aligned, the others right-aligned, each as wide
    as its widest cell (header included), two spaces between columns."""
    width = [len(h) for h in header]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row of {len(row)} cells under {len(header)} headers")
        width = [max(w, len(c)) for w, c in zip(width, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(width[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], width[1:], strict=True))
        return (indent + "  ".join([first, *rest])).rstrip()

    return [line(header), *(line(r) for r in rows)]
