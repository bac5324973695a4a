"""Ratios are kept as numerator and denominator and divided only when read."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Ratio(BaseModel):
    numerator: int
    denominator: int
    value: float | None = Field(
        description="numerator / denominator; null when nothing was counted"
    )

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Ratio:
        return cls(
            numerator=numerator,
            denominator=denominator,
            value=round(numerator / denominator, 6) if denominator else None,
        )
