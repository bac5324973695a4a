"""Readable dossier codes: unit code, receipt date, daily sequence (e.g. ``00070-261122-0042``)."""

from __future__ import annotations

import datetime as dt


def dossier_code(unit_code: str, day: dt.date, sequence: int) -> str:
    return f"{unit_code}-{day:%y%m%d}-{sequence:04d}"
