"""Workflow's most frequent event, a run at a time: every dossier whose case opened goes into
processing through the lifecycle table, exactly as
:func:`intake_service.lifecycle.service.case_opened` moves it one event at a time (the case's id
kept, the move logged as workflow's, the version moved by each move and not by the id alone),
with one read and two writes for the whole run. Payment's events (the fee request, the payment
view) likewise: one locked read and one write for a run of them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain.lifecycle import (
    Action,
    DossierStatus,
    NotAllowedInStatus,
    RoleNotAllowed,
    decide,
)
from intake_service.domain.payments_view import PaymentViewEvent, fold
from intake_service.lifecycle import batch_repository as repository
from intake_service.lifecycle.batch_repository import LifecycleRow, LoggedMove, PaymentViewRow
from intake_service.lifecycle.service import Actor
from shared.events import CaseOpened, FeeRequested

# Payment's events that change a dossier's payment columns: the fee request's id, the view.
PaymentViewInput = FeeRequested | PaymentViewEvent


def open_cases(
    rows: Mapping[uuid.UUID, LifecycleRow], events: Sequence[CaseOpened]
) -> tuple[dict[uuid.UUID, LifecycleRow], list[LoggedMove]]:
    """The rows the events change, and the log rows of their moves, folding the events in order.
    A dossier not received yet, or already past ``received`` (a redelivered or re-published
    event), keeps its status and only learns the case's id."""
    actor = Actor.workflow()
    current = dict(rows)
    moves: list[LoggedMove] = []
    for event in events:
        row = dataclasses.replace(current[event.dossier_id], case_id=event.case_id)
        try:
            target = decide(
                DossierStatus(row.status),
                Action.start_processing,
                actor.roles,
                received=row.received,
            )
        except (NotAllowedInStatus, RoleNotAllowed):
            current[event.dossier_id] = row
            continue
        moves.append(
            LoggedMove(
                dossier_id=event.dossier_id,
                action=Action.start_processing,
                from_status=row.status or None,
                to_status=target,
                actor=actor.sub,
                role=actor.role,
                unit_code=actor.unit,
                at=event.opened_at,
            )
        )
        current[event.dossier_id] = dataclasses.replace(row, status=target, version=row.version + 1)
    changed = {i: row for i, row in current.items() if row != rows[i]}
    return changed, moves


async def cases_opened(session: AsyncSession, events: Sequence[CaseOpened]) -> None:
    ids = {event.dossier_id for event in events}
    rows = await repository.locked_rows(session, ids)
    if missing := ids - rows.keys():
        # Retried later, event by event: the dossier's own row may not have been committed yet.
        raise LookupError(f"case opened for {len(missing)} unknown dossier(s)")
    changed, moves = open_cases(rows, events)
    await repository.write_rows(session, changed)
    await repository.log_moves(session, moves)


def fold_payment_views(
    rows: Mapping[uuid.UUID, PaymentViewRow], events: Sequence[PaymentViewInput]
) -> dict[uuid.UUID, PaymentViewRow]:
    """The rows a run of payment's events changes, folding them in order exactly as
    :func:`intake_service.dossiers.service.fee_requested` and
    :func:`~intake_service.dossiers.service.payment_event` do one at a time."""
    current = dict(rows)
    for event in events:
        row = current[event.dossier_id]
        if isinstance(event, FeeRequested):
            current[event.dossier_id] = dataclasses.replace(
                row, fee_request_id=event.fee_request_id
            )
        else:
            folded = fold(row.payments, event)
            if folded != row.payments:
                current[event.dossier_id] = dataclasses.replace(row, payments=folded)
    return {i: row for i, row in current.items() if row != rows[i]}


async def payment_views(session: AsyncSession, events: Sequence[PaymentViewInput]) -> None:
    ids = {event.dossier_id for event in events}
    rows = await repository.locked_payment_views(session, ids)
    if missing := ids - rows.keys():
        raise LookupError(f"payment event for {len(missing)} unknown dossier(s)")
    await repository.write_payment_views(session, fold_payment_views(rows, events))
