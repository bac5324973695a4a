"""The indicators of Decision 766 read from a unit's counters for one period."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from metrics_service.domain.ratios import Ratio


class Counts(BaseModel):
    """Raw counts of a unit (its subordinate units included) in a period."""

    received: int = Field(0, description="hồ sơ tiếp nhận trong kỳ")
    received_online: int = Field(0, description="hồ sơ tiếp nhận trực tuyến")
    input_digitised: int = Field(
        0, description="hồ sơ tiếp nhận đã số hóa đủ thành phần (số hóa đầu vào)"
    )
    with_fees: int = Field(0, description="hồ sơ tiếp nhận có phí, lệ phí")
    fee_paid_online: int = Field(0, description="hồ sơ có phí, lệ phí đã thanh toán trực tuyến")
    resolved: int = Field(0, description="hồ sơ đã giải quyết (kể cả từ chối sau thẩm định)")
    resolved_early: int = Field(0, description="giải quyết trước hạn")
    resolved_on_time: int = Field(0, description="giải quyết đúng hạn")
    resolved_late: int = Field(0, description="giải quyết trễ hạn")
    rejected: int = Field(0, description="từ chối giải quyết sau thẩm định")
    result_digitised: int = Field(0, description="kết quả được cấp bản điện tử có ký số")
    rated: int = Field(0, description="hồ sơ được đánh giá mức độ hài lòng")
    satisfied: int = Field(0, description="hồ sơ được đánh giá hài lòng trên mọi kênh")
    withdrawn: int = Field(0, description="hồ sơ đã tiếp nhận bị rút")

    @classmethod
    def of(cls, totals: Mapping[str, int], received_online: int) -> Counts:
        """``totals`` maps a metric to its all-channel count; unknown metrics are ignored."""
        known = {k: v for k, v in totals.items() if k in cls.model_fields}
        return cls(**known, received_online=received_online)


class Rates(BaseModel):
    on_time_rate: Ratio = Field(
        description="tỷ lệ giải quyết trước hạn và đúng hạn = (trước hạn + đúng hạn) / đã giải quyết"
    )
    late_rate: Ratio = Field(description="tỷ lệ trễ hạn = trễ hạn / đã giải quyết")
    online_rate: Ratio = Field(
        description="tỷ lệ nộp trực tuyến = tiếp nhận trực tuyến / tiếp nhận"
    )
    input_digitisation_rate: Ratio = Field(
        description="tỷ lệ số hóa hồ sơ đầu vào = hồ sơ đã số hóa / tiếp nhận"
    )
    result_digitisation_rate: Ratio = Field(
        description="tỷ lệ cấp kết quả điện tử = kết quả điện tử / đã giải quyết"
    )
    online_payment_rate: Ratio = Field(
        description="tỷ lệ thanh toán trực tuyến = đã thanh toán trực tuyến / hồ sơ có phí, lệ phí"
    )
    rated_share: Ratio = Field(
        description="tỷ lệ hồ sơ được đánh giá = được đánh giá / đã giải quyết (mục tiêu 20%)"
    )
    satisfied_share: Ratio = Field(
        description="tỷ lệ hài lòng = hồ sơ hài lòng / hồ sơ được đánh giá"
    )


def rates_of(c: Counts) -> Rates:
    return Rates(
        on_time_rate=Ratio.of(c.resolved_early + c.resolved_on_time, c.resolved),
        late_rate=Ratio.of(c.resolved_late, c.resolved),
        online_rate=Ratio.of(c.received_online, c.received),
        input_digitisation_rate=Ratio.of(c.input_digitised, c.received),
        result_digitisation_rate=Ratio.of(c.result_digitised, c.resolved),
        online_payment_rate=Ratio.of(c.fee_paid_online, c.with_fees),
        rated_share=Ratio.of(c.rated, c.resolved),
        satisfied_share=Ratio.of(c.satisfied, c.rated),
    )


class Target(BaseModel):
    """A target the provinces quote, useful as the default threshold of an alert."""

    at_least: float | None = Field(None, description="đạt khi tỷ lệ không thấp hơn")
    below: float | None = Field(None, description="đạt khi tỷ lệ thấp hơn")
    met: bool | None = Field(description="đạt mục tiêu; null khi chưa có số liệu")


# Late rate under 2%, online and input digitisation toward 100% (read: at least 90%, as Nghĩa
# Hành reached in 2024), 20% of resolved dossiers rated.
TARGETS: dict[str, tuple[str, float]] = {
    "late_rate": ("below", 0.02),
    "input_digitisation_rate": ("at_least", 0.9),
    "rated_share": ("at_least", 0.2),
}


def targets_of(rates: Rates) -> dict[str, Target]:
    out = {}
    for name, (kind, threshold) in TARGETS.items():
        value = getattr(rates, name).value
        met = None
        if value is not None:
            met = value < threshold if kind == "below" else value >= threshold
        out[name] = Target(**{kind: threshold}, met=met)
    return out
