"""How one fact becomes counter increments: per unit up the tree, per period, per channel."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from metrics_service.domain.facts import Fact
from shared.calendar import VN_TZ

ALL = "*"  # the "any" value of a counter dimension


@dataclass(frozen=True, slots=True)
class CounterKey:
    unit_code: str
    period: str
    procedure_code: str
    channel: str
    metric: str


def period_of(instant: dt.datetime) -> str:
    """Reporting month in Vietnam's time zone, e.g. ``2026-11``."""
    local = instant.astimezone(VN_TZ)
    return f"{local.year:04d}-{local.month:02d}"


def ancestors(unit_path: str) -> list[str]:
    """Every unit that a fact at ``unit_path`` rolls up to, itself included."""
    return unit_path.split(".")


def received_increments(
    unit_path: str, received_at: dt.datetime, procedure_code: str, channel: str
) -> list[CounterKey]:
    """A received dossier counts once under each (unit, procedure or any, channel or any)."""
    period = period_of(received_at)
    keys = []
    for unit in ancestors(unit_path):
        for procedure in (procedure_code, ALL):
            for ch in (channel, ALL):
                keys.append(CounterKey(unit, period, procedure, ch, "received"))
    return keys


# Metrics counted in the month of receipt, of resolution, of the first rating, of withdrawal.
RECEIPT_METRICS = ("received", "with_fees", "fee_paid_online", "input_digitised")
RESOLUTION_METRICS = (
    "resolved",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "rejected",
    "result_digitised",
)
RATING_METRICS = ("rated", "satisfied")
METRICS = (*RECEIPT_METRICS, *RESOLUTION_METRICS, *RATING_METRICS, "withdrawn")


def fact_keys(fact: Fact) -> frozenset[CounterKey]:
    """Every counter a dossier's fact adds one to. A fact counts each metric at most once, so
    summing these sets over all facts gives the counters."""
    if fact.unit_path is None:
        return frozenset()
    keys: set[CounterKey] = set()

    def count(instant: dt.datetime, *metrics: str) -> None:
        keys.update(_spread(fact, period_of(instant), metrics))

    if fact.received_at is not None:
        count(fact.received_at, "received")
        if fact.fee_amount_vnd:
            count(fact.received_at, "with_fees")
            if fact.fee_paid_online_at is not None:
                count(fact.received_at, "fee_paid_online")
        if fact.input_digitised_at is not None:
            count(fact.received_at, "input_digitised")
    if fact.resolved_at is not None:
        count(fact.resolved_at, "resolved")
        if fact.timeliness:
            count(fact.resolved_at, f"resolved_{fact.timeliness}")
        if fact.resolution_outcome == "rejected":
            count(fact.resolved_at, "rejected")
        if fact.result_digitised:
            count(fact.resolved_at, "result_digitised")
    if fact.rated_at is not None:
        count(fact.rated_at, "rated")
        if fact.satisfied:
            count(fact.rated_at, "satisfied")
    if fact.withdrawn_at is not None:
        count(fact.withdrawn_at, "withdrawn")
    return frozenset(keys)


def _spread(fact: Fact, period: str, metrics: tuple[str, ...]) -> tuple[CounterKey, ...]:
    """Under each ancestor unit, by procedure and channel and by any; a resolution told before
    the receipt counts under "any procedure, any channel" until the receipt names them."""
    assert fact.unit_path is not None
    return _spread_keys(fact.unit_path, fact.procedure_code, fact.channel, period, metrics)


# The same few places, procedures and months recur across every dossier of a desk: their keys
# are built once, not for each dossier's fact before and after each run.
@lru_cache(maxsize=8192)
def _spread_keys(
    unit_path: str,
    procedure_code: str | None,
    channel: str | None,
    period: str,
    metrics: tuple[str, ...],
) -> tuple[CounterKey, ...]:
    procedures = (procedure_code, ALL) if procedure_code else (ALL,)
    channels = (channel, ALL) if channel else (ALL,)
    return tuple(
        CounterKey(unit, period, procedure, ch, metric)
        for unit in ancestors(unit_path)
        for procedure in procedures
        for ch in channels
        for metric in metrics
    )


def counter_changes(before: Fact | None, after: Fact) -> dict[CounterKey, int]:
    """What to add to the counters when a fact goes from ``before`` to ``after``: +1 for keys it
    now counts under, -1 for keys it no longer counts under (when the receipt corrects a unit or a
    procedure that an earlier event named), nothing when the event taught nothing new."""
    old = fact_keys(before) if before is not None else frozenset()
    new = fact_keys(after)
    changes = dict.fromkeys(new - old, 1)
    changes.update(dict.fromkeys(old - new, -1))
    return changes


def merged_changes(
    before: Mapping[uuid.UUID, Fact], after: Mapping[uuid.UUID, Fact]
) -> dict[CounterKey, int]:
    """One amount per counter for a whole run of events: the changes of every dossier from its
    fact ``before`` the run (absent: nothing known) to its fact ``after``, summed by key, keys
    that cancel out dropped. The changes of one dossier's successive facts telescope, so its
    first and last fact say all that its events, applied one by one, would have added."""
    total: Counter[CounterKey] = Counter()
    for dossier_id, fact in after.items():
        total.update(counter_changes(before.get(dossier_id), fact))
    return {key: amount for key, amount in total.items() if amount}
