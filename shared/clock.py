"""The current instant, as a FastAPI dependency.

Routes that stamp a receipt or start a legal clock take "now" from ``Depends(utcnow)`` instead of
calling ``datetime.now`` themselves, so a test can run the app in-process with
``app.dependency_overrides[utcnow] = lambda: fixed_instant`` and check an appointment date
computed for a chosen moment (16:30 on the eve of a long weekend, a day in Tết) without
touching the system clock. Clients can never choose this instant: it is not a request field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends


def utcnow() -> dt.datetime:
    """Now, timezone-aware, in UTC (the form every instant is stored in)."""
    return dt.datetime.now(dt.UTC)


Now = Annotated[dt.datetime, Depends(utcnow)]
