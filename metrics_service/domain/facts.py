"""What metrics knows of one dossier, and how each event adds to it.

Events of one dossier come from four topics with no order between them, and any of them may be
delivered twice (or re-published under a new id). Every rule below is therefore a merge that
gives the same fact whatever the order and however many copies arrive: a value is filled once, or
the earliest instant wins, or flags combine with ``and``. Counters are derived from the fact
(:mod:`metrics_service.domain.counting`), so they inherit that property.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared import deadlines
from shared.events import (
    CaseOpened,
    CaseResolved,
    DossierDigitised,
    DossierEvent,
    DossierRated,
    DossierReceived,
    DossierWithdrawn,
    Event,
    FeeRequested,
    PaymentSucceeded,
)
from shared.vocabulary import Channel, Timeliness


@dataclass(frozen=True, slots=True)
class Fact:
    """Every field may be unknown: the event that carries it may not have arrived yet."""

    dossier_code: str | None = None
    unit_code: str | None = None
    unit_path: str | None = None
    procedure_code: str | None = None
    channel: Channel | None = None
    # From the receipt (tiếp nhận).
    received_at: dt.datetime | None = None
    appointment_at: dt.datetime | None = None
    processing_working_days: float | None = None
    fee_amount_vnd: int | None = None
    case_opened_at: dt.datetime | None = None
    fee_requested_at: dt.datetime | None = None
    # Every required component digitised (số hóa hồ sơ đầu vào).
    input_digitised_at: dt.datetime | None = None
    # Resolution (giải quyết): a result, or a reasoned rejection after examination.
    resolved_at: dt.datetime | None = None
    resolution_outcome: str | None = None
    timeliness: Timeliness | None = None
    result_digitised: bool | None = None
    due_at: dt.datetime | None = None
    # The fee paid online (thanh toán trực tuyến).
    fee_paid_online_at: dt.datetime | None = None
    # Satisfaction (đánh giá mức độ hài lòng): the first rating, and whether every rating was satisfied.
    rated_at: dt.datetime | None = None
    satisfied: bool | None = None
    # Withdrawn (rút hồ sơ) after it was received.
    withdrawn_at: dt.datetime | None = None


FIELDS = tuple(f.name for f in dataclasses.fields(Fact))


def _earliest(known: dt.datetime | None, new: dt.datetime) -> dt.datetime:
    return new if known is None or new < known else known


def _fill(fact: Fact, **values: Any) -> Fact:
    """Set only what is still unknown: the first event that names the dossier's unit wins,
    unless the receipt (which names it with authority) arrives."""
    missing = {k: v for k, v in values.items() if v is not None and getattr(fact, k) is None}
    return dataclasses.replace(fact, **missing) if missing else fact


def _fill_from_dossier_event(fact: Fact, e: DossierEvent) -> Fact:
    return _fill(
        fact,
        dossier_code=e.dossier_code,
        unit_code=e.unit_code,
        unit_path=e.unit_path,
        procedure_code=e.procedure_code,
        channel=e.channel,
    )


def on_received(fact: Fact, e: DossierReceived) -> Fact:
    """The receipt is recorded once; its unit, procedure and channel replace any guessed earlier."""
    if fact.received_at is not None:
        return fact
    return dataclasses.replace(
        fact,
        dossier_code=e.dossier_code,
        unit_code=e.unit_code,
        unit_path=e.unit_path,
        procedure_code=e.procedure_code,
        channel=e.channel,
        received_at=e.received_at,
        appointment_at=e.appointment_at,
        processing_working_days=e.processing_working_days,
        fee_amount_vnd=e.fee_amount_vnd,
    )


def on_case_opened(fact: Fact, e: CaseOpened) -> Fact:
    fact = _fill(fact, dossier_code=e.dossier_code, unit_path=e.unit_path)
    return dataclasses.replace(fact, case_opened_at=_earliest(fact.case_opened_at, e.opened_at))


def on_fee_requested(fact: Fact, e: FeeRequested) -> Fact:
    fact = _fill(fact, dossier_code=e.dossier_code, unit_path=e.unit_path)
    return dataclasses.replace(
        fact, fee_requested_at=_earliest(fact.fee_requested_at, e.requested_at)
    )


def on_digitised(fact: Fact, e: DossierDigitised) -> Fact:
    fact = _fill_from_dossier_event(fact, e)
    return dataclasses.replace(fact, input_digitised_at=_earliest(fact.input_digitised_at, e.at))


def on_resolved(fact: Fact, e: CaseResolved) -> Fact:
    """A case resolves once; should two resolutions ever be told, the earliest stands (ties are
    broken on the remaining fields, so the choice never depends on arrival order)."""
    fact = _fill(fact, dossier_code=e.dossier_code, unit_path=e.unit_path)
    # A resolution that did not say is judged by the one deadline rule workflow uses.
    timeliness = e.timeliness or deadlines.timeliness(e.resolved_at, e.due_at)
    new = (e.resolved_at, e.outcome, timeliness, e.result_digitised, e.due_at)
    if fact.resolved_at is not None:
        known = (
            fact.resolved_at,
            fact.resolution_outcome or "",
            fact.timeliness or "",
            bool(fact.result_digitised),
            fact.due_at or fact.resolved_at,
        )
        if known <= new:
            return fact
    return dataclasses.replace(
        fact,
        resolved_at=e.resolved_at,
        resolution_outcome=e.outcome,
        timeliness=timeliness,
        result_digitised=e.result_digitised,
        due_at=e.due_at,
    )


def on_payment(fact: Fact, e: PaymentSucceeded) -> Fact:
    """Only the procedure's fee paid online counts; a financial obligation or a payment at the
    desk leaves the fact as it is."""
    if e.purpose != "fee" or not e.online:
        return fact
    fact = _fill(fact, dossier_code=e.dossier_code, unit_path=e.unit_path)
    return dataclasses.replace(
        fact, fee_paid_online_at=_earliest(fact.fee_paid_online_at, e.paid_at)
    )


def on_rated(fact: Fact, e: DossierRated) -> Fact:
    """A dossier is rated once however many channels rated it, in the month of its first rating.
    It counts as satisfied only if every rating was: a dissatisfied rating on one channel is
    never hidden by a satisfied one on another."""
    fact = _fill_from_dossier_event(fact, e)
    return dataclasses.replace(
        fact,
        rated_at=_earliest(fact.rated_at, e.at),
        satisfied=e.satisfied if fact.satisfied is None else fact.satisfied and e.satisfied,
    )


def on_withdrawn(fact: Fact, e: DossierWithdrawn) -> Fact:
    """Only a received dossier counts as withdrawn; before receipt it was never in the figures."""
    if not e.was_received:
        return fact
    fact = _fill_from_dossier_event(fact, e)
    return dataclasses.replace(fact, withdrawn_at=_earliest(fact.withdrawn_at, e.at))


# The events that add to a dossier's fact, each with the rule that merges it in.
FactEvent = (
    DossierReceived
    | CaseOpened
    | FeeRequested
    | DossierDigitised
    | CaseResolved
    | PaymentSucceeded
    | DossierRated
    | DossierWithdrawn
)
RULES: dict[type[Event], Callable[[Fact, Any], Fact]] = {
    DossierReceived: on_received,
    CaseOpened: on_case_opened,
    FeeRequested: on_fee_requested,
    DossierDigitised: on_digitised,
    CaseResolved: on_resolved,
    PaymentSucceeded: on_payment,
    DossierRated: on_rated,
    DossierWithdrawn: on_withdrawn,
}
FACT_EVENTS = (
    DossierReceived,
    CaseOpened,
    FeeRequested,
    DossierDigitised,
    CaseResolved,
    PaymentSucceeded,
    DossierRated,
    DossierWithdrawn,
)


def merge(fact: Fact, event: FactEvent) -> Fact:
    """The fact once ``event`` is merged in."""
    return RULES[type(event)](fact, event)


def fold(known: Mapping[uuid.UUID, Fact], events: Iterable[FactEvent]) -> dict[uuid.UUID, Fact]:
    """Every dossier's fact once ``events`` are merged in, in order, starting from what is
    ``known`` (a dossier not in it starts from nothing). Merging a run of events at once gives
    the fact that merging them one after another gives: this is that loop, once per dossier."""
    facts = dict(known)
    for event in events:
        facts[event.dossier_id] = merge(facts.get(event.dossier_id, Fact()), event)
    return facts
