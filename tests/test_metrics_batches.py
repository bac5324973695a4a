"""Metrics applies a poll's events as one run, against the real database: the facts and counters
it leaves are those that applying the same events one by one leaves (the pure rules folded event
after event), whatever the mix of dossiers, duplicates and order in the run, and a run costs the
same few statements however many events it holds.

Each test works in units of its own (a random province and its wards), so every counter under
them is the test's own."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from metrics_service.db.models import MESSAGING, Counter, DossierFact
from metrics_service.domain.counting import CounterKey, counter_changes, fact_keys, merged_changes
from metrics_service.domain.facts import FIELDS, Fact, fold, merge
from metrics_service.events.handlers import make_handlers
from metrics_service.facts import service
from shared.db.engine import make_sessionmaker
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
from shared.events.envelope import Envelope, wrap
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.outbox import Outbox
from tests.batch_support import StatementCount, engine_on, items, runner_on

ICT = dt.timezone(dt.timedelta(hours=7))
PROCEDURE = "1.004222"  # Đăng ký thường trú


def at(day: int, hour: int = 9, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ICT)


class Place:
    """A province of the test's own with two wards: the dossiers' ward, and the one an early
    event names wrongly before the receipt corrects it."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:7]
        self.province = f"P{tag}"
        self.ward = f"W{tag}"
        self.other_ward = f"X{tag}"
        self.path = f"{self.province}.{self.ward}"
        self.other_path = f"{self.province}.{self.other_ward}"
        self.units = [self.province, self.ward, self.other_ward]


def life(place: Place, dossier_id: uuid.UUID, n: int) -> list[Event]:
    """Every kind of event a dossier may have; several disagree or repeat, as redelivered and
    re-published events do."""
    code = f"{place.ward}-{n:04d}"
    common: dict[str, Any] = {
        "dossier_id": dossier_id,
        "dossier_code": code,
        "procedure_code": PROCEDURE,
        "unit_code": place.ward,
        "unit_path": place.path,
        "channel": "online" if n % 2 else "direct",
        "actor": f"cb.tiepnhan.{place.ward}",
    }
    case: dict[str, Any] = {"dossier_id": dossier_id, "dossier_code": code}
    return [
        DossierReceived(
            **{k: v for k, v in common.items() if k != "actor"},
            procedure_name="Đăng ký thường trú",
            received_at=at(2 + n % 3),
            appointment_at=at(12, 17),
            processing_working_days=7,
            fee_amount_vnd=20000 if n % 3 else 0,
            applicant_name="Trần Văn Minh",
        ),
        CaseOpened(
            case_id=uuid.uuid4(), **case, unit_path=place.path, opened_at=at(5), due_at=at(12, 17)
        ),
        FeeRequested(
            fee_request_id=uuid.uuid4(),
            **case,
            unit_path=place.path,
            amount_vnd=20000,
            requested_at=at(5, 10),
        ),
        DossierDigitised(**common, at=at(5, 11), components=["Tờ khai thay đổi thông tin cư trú"]),
        PaymentSucceeded(
            payment_id=uuid.uuid4(),
            **case,
            unit_path=place.path,
            purpose="fee",
            amount_vnd=20000,
            online=True,
            paid_at=at(5, 15),
        ),
        PaymentSucceeded(
            payment_id=uuid.uuid4(),
            **case,
            unit_path=place.path,
            purpose="fee",
            amount_vnd=20000,
            online=False,
            paid_at=at(6),
        ),
        # Told before the receipt, it names the wrong ward until the receipt moves its counts.
        CaseResolved(
            case_id=uuid.uuid4(),
            **case,
            unit_path=place.other_path,
            outcome="approved",
            resolved_at=at(30, 15),
            due_at=at(12, 17),
            result_digitised=True,
        ),
        CaseResolved(
            case_id=uuid.uuid4(),
            **case,
            unit_path=place.path,
            outcome="rejected",
            reason="Chỗ ở không đủ diện tích tối thiểu",
            resolved_at=at(1, 8, month=12),
            due_at=at(1, 17, month=12),
            result_digitised=False,
        ),
        DossierRated(
            **common, at=at(2, 10, month=12), rating_channel="online", score=5, satisfied=True
        ),
        DossierRated(
            **common, at=at(3, 10, month=12), rating_channel="qr", score=2, satisfied=False
        ),
        DossierWithdrawn(**common, at=at(6, 10), reason="Công dân rút hồ sơ", was_received=True),
        DossierWithdrawn(**common, at=at(4, 10), reason="Rút trước tiếp nhận", was_received=False),
    ]


def reference(envelopes: Iterable[Envelope]) -> tuple[dict[uuid.UUID, Fact], collections.Counter]:
    """The facts and counters of applying the events one by one, each envelope once (the
    inbox's part), with the pure rules: what the consumer did before it took runs."""
    facts: dict[uuid.UUID, Fact] = {}
    counters: collections.Counter[CounterKey] = collections.Counter()
    seen: set[str] = set()
    for env in envelopes:
        if env.id in seen:
            continue
        seen.add(env.id)
        before = facts.get(env.data.dossier_id, Fact())  # type: ignore[attr-defined]
        after = merge(before, env.data)  # type: ignore[arg-type]
        counters.update(counter_changes(before, after))
        facts[env.data.dossier_id] = after  # type: ignore[attr-defined]
    return {k: f for k, f in facts.items() if f != Fact()}, +counters


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_on(database_url, "metricsbatch") as engine:
        yield engine


@pytest.fixture
def runner(database_url: str, engine: AsyncEngine) -> ConsumerRunner:
    handlers = make_handlers(Outbox(MESSAGING, source="/motcua/metrics"))
    return runner_on(database_url, engine, "metricsbatch", MESSAGING, handlers)


async def stored(
    engine: AsyncEngine, place: Place, dossier_ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, Fact], collections.Counter, dict[uuid.UUID, dt.datetime | None]]:
    facts_table = DossierFact.__table__
    counters_table = Counter.__table__
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(facts_table).where(facts_table.c.dossier_id.in_(list(dossier_ids)))
            )
        ).all()
        counter_rows = (
            await conn.execute(
                select(counters_table).where(counters_table.c.unit_code.in_(place.units))
            )
        ).all()
    facts = {r.dossier_id: Fact(**{name: r._mapping[name] for name in FIELDS}) for r in rows}
    counted = {r.dossier_id: r.counted_at for r in rows}
    counters = collections.Counter(
        {
            CounterKey(r.unit_code, r.period, r.procedure_code, r.channel, r.metric): r.value
            for r in counter_rows
            if r.value
        }
    )
    return facts, counters, counted


def envelopes_of(events: Iterable[Event]) -> list[Envelope]:
    return [
        wrap(e, source="/motcua/test", subject=getattr(e, "dossier_code", None)) for e in events
    ]


async def test_a_mixed_run_leaves_what_one_by_one_application_leaves(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    place = Place()
    rnd = random.Random(11)
    dossiers = [uuid.uuid4() for _ in range(8)]
    events = [e for n, d in enumerate(dossiers) for e in life(place, d, n)]
    # Re-published events (a new id each), events of one dossier spread over the run, and the
    # resolution told before the receipt for some dossiers.
    events += rnd.sample(events, 20)
    rnd.shuffle(events)
    envelopes = envelopes_of(events)
    # The same envelopes delivered twice inside the run: the inbox applies each once.
    envelopes += rnd.sample(envelopes, 10)
    rnd.shuffle(envelopes)

    applied = await runner.apply_many(items(runner, envelopes))

    assert applied == len({e.id for e in envelopes})
    facts, counters, counted = await stored(engine, place, dossiers)
    expected_facts, expected_counters = reference(envelopes)
    assert facts == expected_facts
    assert (
        counters
        == expected_counters
        == collections.Counter(k for f in expected_facts.values() for k in fact_keys(f))
    )
    # Every received dossier is counted, the instant of its counting kept.
    assert (
        {d for d, c in counted.items() if c is not None}
        == {d for d, f in facts.items() if f.received_at is not None}
        == set(dossiers)
    )


async def test_later_runs_merge_into_stored_facts_and_keep_when_they_were_counted(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    place = Place()
    dossiers = [uuid.uuid4() for _ in range(6)]
    lives = {d: envelopes_of(life(place, d, n)) for n, d in enumerate(dossiers)}
    # First run: half the dossiers are received; the others only have their case resolved.
    first = [lives[d][0] for d in dossiers[:3]] + [lives[d][6] for d in dossiers[3:]]
    await runner.apply_many(items(runner, first))
    _, _, counted_first = await stored(engine, place, dossiers)
    assert [counted_first[d] is not None for d in dossiers] == [True] * 3 + [False] * 3

    # Second run: everything, the first run's envelopes redelivered and the receipts
    # re-published, so the stored facts are locked, merged and rewritten.
    second = [env for d in dossiers for env in lives[d]]
    second += first + envelopes_of(e.data for e in first[:3])
    random.Random(5).shuffle(second)
    await runner.apply_many(items(runner, second))

    facts, counters, counted = await stored(engine, place, dossiers)
    expected_facts, expected_counters = reference(first + second)
    assert facts == expected_facts
    assert counters == expected_counters
    # Counted once: the first receipt's instant stays; the late receipts got theirs now.
    assert all(counted[d] == counted_first[d] for d in dossiers[:3])
    assert all(counted[d] is not None for d in dossiers[3:])


async def test_a_run_that_teaches_nothing_stores_nothing(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    place = Place()
    dossier = uuid.uuid4()
    whole = life(place, dossier, 1)
    # A payment at the desk and a withdrawal before receipt: metrics keeps nothing of them.
    await runner.apply_many(items(runner, envelopes_of([whole[5], whole[11]])))
    facts, counters, _ = await stored(engine, place, [dossier])
    assert facts == {} and counters == collections.Counter()


async def test_a_fact_another_consumer_stores_meanwhile_is_merged_into_not_overwritten(
    engine: AsyncEngine,
) -> None:
    place = Place()
    dossier = uuid.uuid4()
    received, opened, _, digitised, *_ = life(place, dossier, 1)
    sessions = make_sessionmaker(engine)

    async def other_consumer() -> None:
        async with sessions() as session, session.begin():
            await service.record_events(session, [opened, digitised])  # type: ignore[list-item]

    async with sessions() as session, session.begin():
        await service.record_events(session, [received])
        # The other consumer finds no fact yet, and its insert waits for this one's commit.
        racing = asyncio.create_task(other_consumer())
        await asyncio.sleep(0.5)
        assert not racing.done()
    await racing

    facts, counters, counted = await stored(engine, place, [dossier])
    expected_facts, expected_counters = reference(envelopes_of([received, opened, digitised]))
    assert facts == expected_facts
    assert facts[dossier].case_opened_at is not None and facts[dossier].received_at is not None
    assert counters == expected_counters
    assert counted[dossier] is not None


async def test_a_run_costs_the_same_few_statements_however_many_events_it_holds(
    runner: ConsumerRunner, engine: AsyncEngine
) -> None:
    costs = []
    for size in (10, 100, 200):
        place = Place()
        dossiers = [uuid.uuid4() for _ in range(size // 2)]
        # Receipts (new facts) then cases opened (known facts) of the same dossiers.
        envelopes = envelopes_of(
            [life(place, d, n)[0] for n, d in enumerate(dossiers)]
            + [life(place, d, n)[1] for n, d in enumerate(dossiers)]
        )
        await runner.apply_many(items(runner, envelopes[: len(dossiers)]))
        with StatementCount(engine) as count:
            assert await runner.apply_many(items(runner, envelopes)) == len(dossiers)
        costs.append(len(count.statements))
        # A run mixing new and stored facts: inbox, select, insert, update, counters.
        with StatementCount(engine) as count:
            late = envelopes_of(
                [life(place, d, n)[3] for n, d in enumerate(dossiers)]
                + [life(place, uuid.uuid4(), n)[0] for n in range(len(dossiers))]
            )
            await runner.apply_many(items(runner, late))
        costs.append(len(count.statements))
    assert costs == [costs[0], costs[1]] * 3
    assert costs[1] <= 5


DOSSIERS = 4
LIFE_EVENTS = len(life(Place(), uuid.uuid4(), 0))


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, DOSSIERS - 1), st.integers(0, LIFE_EVENTS - 1)),
        min_size=1,
        max_size=40,
    ),
    redeliveries=st.lists(st.integers(0, 39), max_size=8),
    cuts=st.lists(st.integers(1, 48), max_size=4),
)
async def test_any_events_in_any_runs_give_the_facts_and_counters_of_one_by_one(
    runner: ConsumerRunner,
    engine: AsyncEngine,
    picks: list[tuple[int, int]],
    redeliveries: list[int],
    cuts: list[int],
) -> None:
    place = Place()
    dossiers = [uuid.uuid4() for _ in range(DOSSIERS)]
    lives = [life(place, d, n) for n, d in enumerate(dossiers)]
    envelopes = envelopes_of(lives[d][i] for d, i in picks)
    for i in redeliveries:
        if i < len(envelopes):
            envelopes.insert(min(len(envelopes), i + 3), envelopes[i])
    # The stream cut into polls at arbitrary places (a run of one is the runner's fallback).
    bounds = sorted({0, len(envelopes), *(c for c in cuts if c < len(envelopes))})
    for start, end in itertools.pairwise(bounds):
        await runner.apply_many(items(runner, envelopes[start:end]))

    facts, counters, _ = await stored(engine, place, dossiers)
    expected_facts, expected_counters = reference(envelopes)
    assert facts == expected_facts
    assert counters == expected_counters


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, DOSSIERS - 1), st.integers(0, LIFE_EVENTS - 1)), max_size=40
    ),
    split=st.integers(0, 40),
)
def test_a_fold_and_its_merged_deltas_equal_merging_event_after_event(
    picks: list[tuple[int, int]], split: int
) -> None:
    place = Place()
    dossiers = [uuid.uuid4() for _ in range(DOSSIERS)]
    lives = [life(place, d, n) for n, d in enumerate(dossiers)]
    events = [lives[d][i] for d, i in picks]
    # What an earlier run left is where this run starts.
    known = {k: f for k, f in fold({}, events[:split]).items() if f != Fact()}
    after = fold(known, events[split:])
    one_by_one, counters = reference(envelopes_of(events))
    earlier = reference(envelopes_of(events[:split]))[1]
    assert {k: f for k, f in after.items() if f != Fact()} == one_by_one
    # The earlier counters moved by the run's merged deltas are the counters of one by one.
    total = collections.Counter(earlier)
    total.update(merged_changes(known, after))
    assert +total == counters
    assert all(amount for amount in merged_changes(known, after).values())
