"""What a desk route needs from the request, gathered by one dependency.

FastAPI pays for every dependency of a route on every request (a cache key, a signature walk,
a call); the desk's hot routes took seven small ones (the token, the caller, the runtime, the
reference data, now, the calendar cache, the reception calendar), each a few lines of work.
One coroutine does the same work in the same order: the caller is checked (401, then 403)
before the body is validated, as a dependency is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from intake_service.clock import request_now
from intake_service.domain.reception import SUBMITTING_ROLES
from intake_service.reference.state import Reference
from shared.auth import Bearer, Principal, ensure_roles, principal_of
from shared.calendar import WorkingCalendar
from shared.runtime import Runtime


@dataclass(frozen=True, slots=True)
class DeskRequest:
    principal: Principal
    runtime: Runtime
    reference: Reference
    now: dt.datetime
    # The calendar a dossier received now is counted on.
    calendar: WorkingCalendar


async def desk_request(request: Request, credentials: Bearer) -> DeskRequest:
    principal = await principal_of(request, credentials)
    runtime: Runtime = request.app.state.runtime
    reference: Reference = request.app.state.reference
    now = await request_now(request)
    calendar = await reference.calendar(runtime).for_deadline(now, 0)
    return DeskRequest(principal, runtime, reference, now, calendar)


async def submitting_desk(request: Request, credentials: Bearer) -> DeskRequest:
    """:func:`desk_request` for a caller who may submit, else a 403 problem."""
    desk = await desk_request(request, credentials)
    ensure_roles(desk.principal, *SUBMITTING_ROLES)
    return desk


Desk = Annotated[DeskRequest, Depends(desk_request)]
SubmittingDesk = Annotated[DeskRequest, Depends(submitting_desk)]
