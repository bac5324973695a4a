"""The current instant for intake's hot routes, without a thread.

``shared.clock.utcnow`` is a plain function, and FastAPI runs a plain-function dependency in its
threadpool: a thread hop per request (and the GIL handed back and forth under load) for one
clock read. :data:`Now` reads the same instant in the event loop, and still honours a test's
``app.dependency_overrides[utcnow]``, the one way a frozen clock is given to an app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from shared.clock import utcnow


async def request_now(request: Request) -> dt.datetime:
    override: Callable[[], dt.datetime] | None = request.app.dependency_overrides.get(utcnow)
    return override() if override is not None else utcnow()


Now = Annotated[dt.datetime, Depends(request_now)]
