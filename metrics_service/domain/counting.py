"""How one fact becomes counter increments: per unit up the tree, per period, per channel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
    return instant.astimezone(VN_TZ).strftime("%Y-%m")


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
