"""Durable deadline timers.

A timer row is written in the same transaction as the step or case it watches. Any workflow
process may fire it: due rows are claimed with ``FOR UPDATE SKIP LOCKED``, so two processes
never take the same one, and the overdue event is written to the outbox in the transaction that
marks the row fired, so a crash either fires it (event and mark together) or leaves it for the
next claim. A timer whose deadline passed while every process was down fires on the first claim
after start, once. "Overdue" is :func:`shared.deadlines.is_overdue`: a timer due exactly now
waits for the next round.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import CaseOverdue, Event, StepOverdue
from shared.messaging.outbox import Outbox
from workflow_service.domain.cases import CaseStatus, StepStatus
from workflow_service.timers import repository
from workflow_service.timers.repository import CASE_DUE, STEP_DUE

log = structlog.get_logger(__name__)

MIN_PAUSE_S = 0.02


async def fire_due(
    session: AsyncSession, outbox: Outbox, now: dt.datetime, batch: int = 500
) -> int:
    """Fire up to ``batch`` overdue timers in the caller's transaction; returns how many fired.

    A timer whose step or case has moved on (finished, or paused and re-armed) is marked fired
    without an event: it was disarmed in spirit, and marking it keeps it out of the next claim.
    """
    timers = await repository.claim_overdue(session, now, batch)
    if not timers:
        return 0
    cases, steps = await repository.cases_and_steps(
        session, {t.case_id for t in timers}, {t.step_id for t in timers if t.step_id}
    )
    events: list[tuple[Event, str | None]] = []
    for timer in timers:
        case = cases[timer.case_id]
        if case.status != CaseStatus.open:
            continue
        if timer.kind == CASE_DUE and timer.due_at == case.due_at:
            events.append(
                (
                    CaseOverdue(
                        case_id=case.id,
                        dossier_id=case.dossier_id,
                        dossier_code=case.dossier_code,
                        unit_path=case.unit_path,
                        due_at=case.due_at,
                        fired_at=now,
                    ),
                    case.dossier_code,
                )
            )
        elif timer.kind == STEP_DUE and timer.step_id in steps:
            step = steps[timer.step_id]
            if StepStatus(step.status).is_open and step.due_at == timer.due_at:
                events.append(
                    (
                        StepOverdue(
                            case_id=case.id,
                            dossier_id=case.dossier_id,
                            dossier_code=case.dossier_code,
                            unit_path=step.unit_path,
                            step_id=step.id,
                            step=step.name,
                            agency_code=step.agency_code,
                            claimed_by=step.claimed_by,
                            due_at=step.due_at,
                            fired_at=now,
                        ),
                        case.dossier_code,
                    )
                )
    await outbox.add_all(session, events)
    return len(timers)


async def run_timers(
    sessionmaker: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    *,
    interval_s: float = 1.0,
    batch: int = 500,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> None:
    """Fire due timers forever; a full batch is followed at once by the next, so a backlog
    (after downtime) drains without waiting. Between rounds the loop sleeps until the next
    pending timer is due, but never longer than ``interval_s``: a timer armed meanwhile by
    another transaction is seen within the interval at worst."""
    while True:
        pause = interval_s
        try:
            # A worker of its own, not a request: it owns its transaction, one per round.
            async with sessionmaker() as session, session.begin():
                now = clock()
                fired = await fire_due(session, outbox, now, batch)
                if fired < batch:
                    upcoming = await repository.next_due(session)
                    if upcoming is not None:
                        # A floor, so rows another process holds locked are not polled in a
                        # tight loop until it commits.
                        wait = (upcoming - now).total_seconds()
                        pause = min(interval_s, max(MIN_PAUSE_S, wait))
                else:
                    pause = 0.0
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be restarting; keep the loop alive
            log.exception("timer round failed")
        await asyncio.sleep(pause)
