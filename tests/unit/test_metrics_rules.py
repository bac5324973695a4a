"""How a dossier's events become facts and counters, and how counters become indicators."""

from __future__ import annotations

import collections
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_service.domain.counting import ALL, CounterKey, counter_changes, fact_keys
from metrics_service.domain.facts import RULES, Fact
from metrics_service.domain.indicators import Counts, rates_of, targets_of
from shared.deadlines import timeliness
from shared.events import (
    CaseOpened,
    CaseResolved,
    DossierDigitised,
    DossierRated,
    DossierReceived,
    DossierWithdrawn,
    Event,
    FeeRequested,
    PaymentSucceeded,
)

ICT = dt.timezone(dt.timedelta(hours=7))
DOSSIER = uuid.uuid4()
CODE = "00070-261122-0001"
PATH = "01.00070"
PROCEDURE = "1.004222"


def at(day: int, month: int = 11, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ICT)


def received(channel: str = "online", fee: int = 20000, day: int = 2) -> DossierReceived:
    return DossierReceived(
        dossier_id=DOSSIER,
        dossier_code=CODE,
        procedure_code=PROCEDURE,
        procedure_name="Đăng ký thường trú",
        unit_code="00070",
        unit_path=PATH,
        channel=channel,  # type: ignore[arg-type]
        received_at=at(day),
        appointment_at=at(day) + dt.timedelta(days=7),
        processing_working_days=7,
        fee_amount_vnd=fee,
        applicant_name="Nguyễn Thị Lan",
    )


def dossier_fields(when: dt.datetime) -> dict[str, Any]:
    return {
        "dossier_id": DOSSIER,
        "dossier_code": CODE,
        "procedure_code": PROCEDURE,
        "unit_code": "00070",
        "unit_path": PATH,
        "channel": "online",
        "at": when,
        "actor": "cb.tiepnhan.00070",
    }


def resolved(
    resolved_at: dt.datetime,
    due_at: dt.datetime | None = None,
    outcome: str = "approved",
    digitised: bool = True,
    timeliness: str | None = None,
) -> CaseResolved:
    return CaseResolved(
        case_id=uuid.uuid4(),
        dossier_id=DOSSIER,
        dossier_code=CODE,
        unit_path=PATH,
        outcome=outcome,  # type: ignore[arg-type]
        reason="Không đủ điều kiện" if outcome == "rejected" else None,
        resolved_at=resolved_at,
        due_at=due_at or at(9, 12),
        result_digitised=digitised,
        timeliness=timeliness,  # type: ignore[arg-type]
    )


def digitised(when: dt.datetime) -> DossierDigitised:
    return DossierDigitised(
        **dossier_fields(when), components=["Tờ khai thay đổi thông tin cư trú"]
    )


def rated(when: dt.datetime, rating_channel: str, score: int) -> DossierRated:
    return DossierRated(
        **dossier_fields(when),
        rating_channel=rating_channel,  # type: ignore[arg-type]
        score=score,
        satisfied=score >= 4,
    )


def paid(when: dt.datetime, online: bool = True, purpose: str = "fee") -> PaymentSucceeded:
    return PaymentSucceeded(
        payment_id=uuid.uuid4(),
        dossier_id=DOSSIER,
        dossier_code=CODE,
        unit_path=PATH,
        purpose=purpose,  # type: ignore[arg-type]
        amount_vnd=20000,
        online=online,
        paid_at=when,
    )


def withdrawn(when: dt.datetime, was_received: bool = True) -> DossierWithdrawn:
    return DossierWithdrawn(
        **dossier_fields(when), reason="Công dân rút hồ sơ", was_received=was_received
    )


def apply(events: Iterable[Event], fact: Fact | None = None) -> tuple[Fact, collections.Counter]:
    """Apply events one by one as the consumer does; return the fact and the counters."""
    counters: collections.Counter[CounterKey] = collections.Counter()
    current = fact or Fact()
    for event in events:
        after = RULES[type(event)](current, event)
        counters.update(counter_changes(current, after))
        current = after
    return current, counters


def totals(counters: collections.Counter, unit: str = "01", period: str = "2026-11") -> dict:
    return {
        k.metric: v
        for k, v in counters.items()
        if v and (k.unit_code, k.period, k.procedure_code, k.channel) == (unit, period, ALL, ALL)
    }


def test_received_then_resolved_on_time_counts_under_every_ancestor() -> None:
    _, counters = apply([received(), resolved(at(9), due_at=at(9, hour=17))])
    for unit in ("01", "00070"):
        assert totals(counters, unit) == {
            "received": 1,
            "with_fees": 1,
            "resolved": 1,
            "resolved_on_time": 1,
            "result_digitised": 1,
        }
    by_procedure = CounterKey("00070", "2026-11", PROCEDURE, "online", "resolved_on_time")
    assert counters[by_procedure] == 1


def test_rejected_after_examination_still_counts_as_resolved() -> None:
    _, counters = apply([received(), resolved(at(20), outcome="rejected", digitised=False)])
    t = totals(counters)
    assert t["resolved"] == t["rejected"] == t["resolved_early"] == 1
    assert "result_digitised" not in t


def test_resolution_counts_in_the_month_it_happened() -> None:
    _, counters = apply([received(day=28), resolved(at(3, 12), due_at=at(2, 12, hour=17))])
    assert totals(counters, period="2026-11") == {"received": 1, "with_fees": 1}
    assert totals(counters, period="2026-12") == {
        "resolved": 1,
        "resolved_late": 1,
        "result_digitised": 1,
    }


def test_timeliness_follows_workflow_when_the_event_omits_it() -> None:
    due = at(10, hour=17)
    assert timeliness(at(10, hour=8), due) == "on_time"
    assert timeliness(at(9, hour=16), due) == "early"
    assert timeliness(at(10, hour=18), due) == "late"
    _, counters = apply([resolved(at(11), due_at=due)])
    assert totals(counters)["resolved_late"] == 1


def test_resolution_before_receipt_counts_under_any_procedure_until_the_receipt_names_it() -> None:
    early, counters = apply([resolved(at(9))])
    assert totals(counters)["resolved"] == 1
    assert not any(k.procedure_code == PROCEDURE for k, v in counters.items() if v)
    _, more = apply([received()], early)
    counters.update(more)
    assert counters[CounterKey("01", "2026-11", PROCEDURE, "online", "resolved")] == 1
    assert totals(counters)["resolved"] == 1


def test_input_digitisation_counts_in_the_month_of_receipt_once_both_are_known() -> None:
    fact, counters = apply([digitised(at(3, 12))])
    assert totals(counters, period="2026-12") == {}
    assert fact.input_digitised_at is not None
    _, more = apply([received(day=30)], fact)
    assert totals(more) == {"received": 1, "with_fees": 1, "input_digitised": 1}


def test_only_a_fee_paid_online_counts_and_only_for_dossiers_with_fees() -> None:
    _, counters = apply(
        [received(), paid(at(2), online=False), paid(at(3), purpose="financial_obligation")]
    )
    assert "fee_paid_online" not in totals(counters)
    _, counters = apply([received(), paid(at(2)), paid(at(3))])
    assert totals(counters)["fee_paid_online"] == totals(counters)["with_fees"] == 1
    _, counters = apply([received(fee=0), paid(at(2))])
    assert "with_fees" not in totals(counters) and "fee_paid_online" not in totals(counters)


def test_a_dossier_rated_on_three_channels_counts_once_and_a_poor_rating_is_not_hidden() -> None:
    fact, counters = apply([rated(at(10), "online", 5), rated(at(12), "qr", 4)])
    assert totals(counters) == {"rated": 1, "satisfied": 1}
    fact, more = apply([rated(at(2, 12), "survey", 2)], fact)
    counters.update(more)
    assert totals(counters) == {"rated": 1}
    assert fact.rated_at == at(10)


def test_withdrawal_counts_only_for_a_received_dossier() -> None:
    fact, counters = apply([withdrawn(at(5), was_received=False)])
    assert fact == Fact() and not counters
    _, counters = apply([received(), withdrawn(at(5))])
    assert totals(counters)["withdrawn"] == 1


def test_receipt_replaces_a_unit_named_wrongly_earlier_and_moves_its_counts() -> None:
    other = digitised(at(3)).model_copy(update={"unit_path": "01.00004", "unit_code": "00004"})
    fact, counters = apply([rated(at(3), "online", 5).model_copy(update={"unit_path": "01.00004"})])
    fact, more = apply([other, received()], fact)
    counters.update(more)
    assert totals(counters, "00004") == {}
    assert totals(counters, "00070") == {
        "received": 1,
        "with_fees": 1,
        "input_digitised": 1,
        "rated": 1,
        "satisfied": 1,
    }


def test_indicators_divide_the_counts_when_read() -> None:
    # Gio Linh, 10 months of 2022: 3,478 resolved, 3,385 early or on time, 93 late.
    counts = Counts(
        received=3743,
        received_online=1200,
        resolved=3478,
        resolved_early=3000,
        resolved_on_time=385,
        resolved_late=93,
        rated=700,
        satisfied=690,
    )
    rates = rates_of(counts)
    assert rates.on_time_rate.value == pytest.approx(0.9733, abs=1e-4)
    assert rates.late_rate.value == pytest.approx(0.0267, abs=1e-4)
    assert (rates.online_rate.numerator, rates.online_rate.denominator) == (1200, 3743)
    assert rates.online_payment_rate.value is None  # no dossier with fees: nothing to divide
    targets = targets_of(rates)
    assert targets["late_rate"].met is False
    assert targets["rated_share"].met is True
    assert targets["input_digitisation_rate"].met is False


def test_counts_ignore_metrics_they_do_not_know() -> None:
    counts = Counts.of({"received": 4, "resolved": 2, "a_newer_metric": 9}, received_online=3)
    assert (counts.received, counts.resolved, counts.received_online) == (4, 2, 3)


# Every kind of event a dossier may have, each possibly told twice (a re-published event gets a
# new id, so the inbox does not catch it; the merge must).
LIFE: list[Event] = [
    received(),
    CaseOpened(
        case_id=uuid.uuid4(),
        dossier_id=DOSSIER,
        dossier_code=CODE,
        unit_path=PATH,
        opened_at=at(2, hour=10),
        due_at=at(9),
    ),
    FeeRequested(
        fee_request_id=uuid.uuid4(),
        dossier_id=DOSSIER,
        dossier_code=CODE,
        unit_path=PATH,
        amount_vnd=20000,
        requested_at=at(2, hour=10),
    ),
    digitised(at(2, hour=11)),
    paid(at(2, hour=15)),
    paid(at(3), online=False),
    resolved(at(30), due_at=at(1, 12, hour=17)),
    resolved(at(1, 12, hour=8), due_at=at(1, 12, hour=17), outcome="rejected"),
    rated(at(30, hour=15), "online", 5),
    rated(at(2, 12), "qr", 3),
    rated(at(3, 12), "survey", 4),
    withdrawn(at(4)),
]


@settings(max_examples=300, deadline=None)
@given(st.permutations(LIFE), st.lists(st.sampled_from(LIFE), max_size=12), st.randoms())
def test_any_order_and_any_duplication_give_the_same_counters(
    order: list[Event], repeats: list[Event], rnd: Any
) -> None:
    events = order + repeats
    rnd.shuffle(events)
    fact, counters = apply(events)
    reference, expected = apply(LIFE)
    assert fact == reference
    assert +counters == expected == collections.Counter(fact_keys(fact))
    assert all(v in (0, 1) for v in counters.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(LIFE), min_size=1, max_size=20))
def test_counters_always_equal_the_keys_of_the_fact_so_far(events: list[Event]) -> None:
    fact, counters = apply(events)
    assert +counters == collections.Counter(fact_keys(fact))
