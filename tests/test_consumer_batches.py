"""The consumer runner's batches against the real database: a batch handler gets each run of
consecutive new events whole and in order, an event the inbox holds is never handed to it again,
and a failing batch rolls back whole (inbox rows included) so that event-by-event retry finds
every event new."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import MESSAGING
from shared.db.engine import make_engine, make_sessionmaker
from shared.events import AgencyChanged
from shared.events.envelope import Envelope, wrap
from shared.messaging.consumer import Batched, ConsumerRunner
from shared.settings import ServiceSettings
from shared.vocabulary import AgencyKind


def agency(code: str) -> Envelope:
    return wrap(
        AgencyChanged(
            agency_code=code, name=code, kind=AgencyKind.department, unit_code="01", unit_path="01"
        ),
        source="/motcua/test",
    )


@pytest.fixture
async def runner_parts(database_url: str) -> AsyncIterator[ServiceSettings]:
    settings = ServiceSettings(database_url=database_url, service_name="batchtest")
    yield settings


async def test_batch_handler_gets_runs_in_order_and_never_an_applied_event(
    runner_parts: ServiceSettings,
) -> None:
    engine = make_engine(runner_parts)
    seen: list[tuple[str, list[str]]] = []

    async def batch(_: AsyncSession, envs: Sequence[Envelope]) -> None:
        seen.append(("batch", [e.data.agency_code for e in envs]))  # type: ignore[attr-defined]

    async def single(_: AsyncSession, env: Envelope) -> None:
        seen.append(("single", [env.id]))

    try:
        runner = ConsumerRunner(
            runner_parts, make_sessionmaker(engine), MESSAGING, "batchtest", {}, []
        )
        batched = Batched(batch)
        a, b, c, d = (agency(x) for x in "abcd")
        other = wrap(
            AgencyChanged(
                agency_code="z", name="z", kind=AgencyKind.other, unit_code="01", unit_path="01"
            ),
            source="/motcua/test",
        )
        assert await runner.apply_many([(a, batched), (b, batched)]) == 2
        # a and b are applied already; c comes twice; a single-event handler splits the runs.
        applied = await runner.apply_many(
            [(a, batched), (c, batched), (b, batched), (other, single), (d, batched), (c, batched)]
        )
        assert applied == 3
        assert seen == [
            ("batch", ["a", "b"]),
            ("batch", ["c"]),
            ("single", [other.id]),
            ("batch", ["d"]),
        ]
    finally:
        await engine.dispose()


async def test_a_failing_batch_leaves_nothing_behind(runner_parts: ServiceSettings) -> None:
    engine = make_engine(runner_parts)
    calls: list[int] = []

    async def failing(_: AsyncSession, envs: Sequence[Envelope]) -> None:
        calls.append(len(envs))
        if len(envs) > 1:
            raise RuntimeError("poison in the batch")

    try:
        runner = ConsumerRunner(
            runner_parts, make_sessionmaker(engine), MESSAGING, "batchtest", {}, []
        )
        batched = Batched(failing)
        events = [agency(f"f{i}-{dt.datetime.now().timestamp()}") for i in range(3)]
        with pytest.raises(RuntimeError):
            await runner.apply_many([(e, batched) for e in events])
        # The inbox rows of the failed batch rolled back with it: one by one, each is new.
        assert [await runner.apply(e, batched) for e in events] == [True, True, True]
        assert calls == [3, 1, 1, 1]
    finally:
        await engine.dispose()
