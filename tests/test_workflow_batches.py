"""Opening a poll's received dossiers together, against the real database: the consumer runner
hands workflow a run of receipts, and the cases, first steps, timers, action log and events it
writes are exactly what applying the same receipts one by one writes — a dossier received twice
(in the run, or after its case was opened) still has one case, the first receipt's — at a number
of statements that does not grow with the run.

Every dossier, route and working-hours row here is the test's own, removed at the end; the
receipts are dated a year ahead, so no timer of theirs comes due while the suite runs; the
events go to the outbox under a namespace of their own, so a relay publishing them feeds no
consumer of the suite."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db.engine import make_engine, make_sessionmaker
from shared.events import DossierReceived
from shared.events.envelope import Envelope, wrap
from shared.messaging.consumer import ConsumerRunner, Registered
from shared.messaging.outbox import Outbox
from shared.vocabulary import Channel
from tests.support import BA_DINH, HANOI, HOAN_KIEM
from tests.test_workflow_cases import LAND, NEWBORN, calendar
from workflow_service.calendar.service import CalendarBook
from workflow_service.db.models import (
    MESSAGING,
    Case,
    CaseAction,
    ProcedureHours,
    RouteTemplateRow,
    Step,
    Timer,
)
from workflow_service.events.handlers import make_handlers
from workflow_service.settings import WorkflowSettings

WARD = f"{HANOI}.{HOAN_KIEM}"
OTHER_WARD = f"{HANOI}.{BA_DINH}"
# A ward the reference data does not know: its desk step has no agency to go to.
UNKNOWN_WARD = f"{HANOI}.99999"
# A Monday morning a year ahead, in Vietnam (UTC+7).
MONDAY = dt.datetime(2027, 3, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
ABSENT = "absent"  # a receipt from before intake said whether the procedure is timed in hours


@dataclass(frozen=True)
class Receipt:
    """What one receipt says, apart from which dossier it names."""

    dossier: int  # which dossier of the set
    procedure_key: str | None
    unit_path: str
    days_to_appointment: int
    hours: float | str | None = None  # ABSENT: the field left out of the event
    minutes_after: int = 0


@dataclass
class Procedures:
    """The test's own procedures: one whose newest route starts at the province's police, one
    timed in working hours by the catalogue, one the catalogue never published."""

    police_first: str
    hours_timed: str
    unpublished: str

    @classmethod
    def fresh(cls) -> Procedures:
        tag = uuid.uuid4().hex[:8]
        return cls(f"batches-police-{tag}", f"batches-hours-{tag}", f"batches-unknown-{tag}")

    @property
    def keys(self) -> list[str]:
        return [self.police_first, self.hours_timed, self.unpublished]


def police_route(version: int) -> list[dict[str, Any]]:
    first = "police" if version == 2 else "one_stop_desk"
    return [
        {"step": "verify_residence", "agency_kind": first, "share": 0.5},
        {"step": "decide", "agency_kind": "specialist_office", "share": 0.5},
    ]


def receipts(p: Procedures) -> tuple[list[Receipt], list[Receipt]]:
    """(receipts applied before the run, the run): several procedures and units, routes of
    several steps, a dossier received twice in the run, one whose case is open already."""
    before = [Receipt(0, NEWBORN, WARD, 12)]
    run = [
        # A receipt of dossier 0 under a new event id: its case is there; nothing changes.
        Receipt(0, NEWBORN, OTHER_WARD, 30, minutes_after=1),
        Receipt(1, NEWBORN, WARD, 15, minutes_after=2),
        Receipt(2, LAND, OTHER_WARD, 20, minutes_after=3),
        Receipt(3, p.police_first, WARD, 10, minutes_after=4),
        Receipt(4, "dang-ky-khai-sinh", HANOI, 3, minutes_after=5),
        Receipt(5, None, WARD, 5, minutes_after=6),
        Receipt(6, p.unpublished, UNKNOWN_WARD, 7, minutes_after=7),
        Receipt(7, p.hours_timed, OTHER_WARD, 2, hours=ABSENT, minutes_after=8),
        Receipt(8, p.hours_timed, WARD, 2, hours=4.0, minutes_after=9),
        # Dossier 3 again, under a new event id, saying something else: the first one wins.
        Receipt(3, LAND, OTHER_WARD, 40, minutes_after=10),
        Receipt(9, LAND, WARD, 25, minutes_after=11),
    ]
    return before, run


class DossierSet:
    """One set of dossiers for the receipts: two sets differ only in the dossiers' ids and
    codes, which :meth:`norm` maps back to the dossier's number in the set."""

    def __init__(self, size: int) -> None:
        self.ids = [uuid.uuid4() for _ in range(size)]
        self.codes = [f"LOT-{uuid.uuid4().hex[:12]}" for _ in range(size)]
        self._number = {str(i): n for n, i in enumerate(self.ids)} | {
            c: n for n, c in enumerate(self.codes)
        }

    def envelope(self, r: Receipt) -> Envelope:
        received_at = MONDAY + dt.timedelta(minutes=r.minutes_after)
        fields: dict[str, Any] = {
            "dossier_id": self.ids[r.dossier],
            "dossier_code": self.codes[r.dossier],
            "procedure_code": "1.001193",
            "procedure_name": "Đăng ký khai sinh",
            "unit_code": r.unit_path.split(".")[-1],
            "unit_path": r.unit_path,
            "channel": Channel.direct,
            "received_at": received_at,
            "appointment_at": received_at + dt.timedelta(days=r.days_to_appointment),
            "processing_working_days": r.days_to_appointment,
            "fee_amount_vnd": 0,
            "applicant_name": "Nguyễn Thị Lan",
            "procedure_key": r.procedure_key,
            "applicant_ref": "9f" * 32,
        }
        if r.hours != ABSENT:
            fields["processing_working_hours"] = r.hours
        return wrap(DossierReceived(**fields), source="/motcua/intake")

    def norm(self, value: Any) -> Any:
        """``value`` with this set's dossier ids and codes replaced by the dossier's number."""
        if isinstance(value, uuid.UUID):
            value = str(value)
        if isinstance(value, str) and value in self._number:
            return f"dossier {self._number[value]}"
        return value


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(WorkflowSettings(database_url=database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def procedures(engine: AsyncEngine) -> AsyncIterator[Procedures]:
    p = Procedures.fresh()
    async with make_sessionmaker(engine)() as session, session.begin():
        for version in (1, 2):
            session.add(
                RouteTemplateRow(
                    procedure_key=p.police_first,
                    version=version,
                    steps=police_route(version),
                    created_by="test",
                )
            )
        session.add(ProcedureHours(procedure_key=p.hours_timed, version=1, working_hours=16.0))
    try:
        yield p
    finally:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                delete(RouteTemplateRow).where(RouteTemplateRow.procedure_key.in_(p.keys))
            )
            await session.execute(
                delete(ProcedureHours).where(ProcedureHours.procedure_key.in_(p.keys))
            )


class Workflow:
    """Workflow's consumer over the test database, as the service builds it, writing events
    under the test's own namespace; removes every dossier's rows it opened."""

    def __init__(self, engine: AsyncEngine, database_url: str) -> None:
        self.engine = engine
        self.sessionmaker = make_sessionmaker(engine)
        self.namespace = f"batches{uuid.uuid4().hex[:8]}."
        self.outbox = Outbox(MESSAGING, "/motcua/workflow", self.namespace)
        handlers = make_handlers(self.outbox, CalendarBook())
        self.handler: Registered = handlers[DossierReceived.event_type]
        self.runner = ConsumerRunner(
            WorkflowSettings(database_url=database_url),
            self.sessionmaker,
            MESSAGING,
            "workflow",
            handlers,
            [],
        )
        self.dossiers: list[uuid.UUID] = []

    async def apply_many(self, envs: list[Envelope]) -> int:
        self.dossiers += [e.data.dossier_id for e in envs]  # type: ignore[attr-defined]
        return await self.runner.apply_many([(e, self.handler) for e in envs])

    async def apply_one_by_one(self, envs: list[Envelope]) -> int:
        self.dossiers += [e.data.dossier_id for e in envs]  # type: ignore[attr-defined]
        return sum([await self.runner.apply(e, self.handler) for e in envs])

    async def snapshot(self, dossiers: DossierSet) -> dict[str, Any]:
        """Everything opening wrote for the set's dossiers, without ids or the instant it ran,
        dossiers named by their number in the set."""
        n = dossiers.norm
        async with self.sessionmaker() as session:
            cases = list(
                await session.scalars(
                    select(Case)
                    .where(Case.dossier_id.in_(dossiers.ids))
                    .order_by(Case.received_at, Case.dossier_code)
                )
            )
            case_ids = [c.id for c in cases]
            by_case = {c.id: n(c.dossier_id) for c in cases}
            steps = list(
                await session.scalars(
                    select(Step).where(Step.case_id.in_(case_ids)).order_by(Step.started_at)
                )
            )
            timers = list(
                await session.scalars(
                    select(Timer).where(Timer.case_id.in_(case_ids)).order_by(Timer.id)
                )
            )
            actions = list(
                await session.scalars(
                    select(CaseAction)
                    .where(CaseAction.case_id.in_(case_ids))
                    .order_by(CaseAction.id)
                )
            )
            outbox = MESSAGING.outbox
            events = (
                await session.execute(
                    select(outbox.c.event_type, outbox.c.topic, outbox.c.headers, outbox.c.payload)
                    .where(outbox.c.key.in_([str(i) for i in dossiers.ids]))
                    .order_by(outbox.c.id)
                )
            ).all()
        # Cases and steps by what they are, so that which row and event names which stays
        # checked while their random ids do not count.
        names = {str(c.id): f"case of {by_case[c.id]}" for c in cases} | {
            str(s.id): f"step {s.seq} of {by_case[s.case_id]}" for s in steps
        }

        def name(value: Any) -> Any:
            return names.get(str(value), n(value))

        return {
            "cases": [
                {k: name(v) for k, v in row_of(c).items() if k != "opened_at"} for c in cases
            ],
            "steps": [{k: name(v) for k, v in row_of(s).items()} for s in steps],
            "timers": [{k: name(v) for k, v in row_of(t).items() if k != "id"} for t in timers],
            "actions": [
                {k: name(v) for k, v in row_of(a).items() if k not in ("id", "at")} for a in actions
            ],
            "events": [
                {
                    "type": event_type,
                    "topic": topic.removeprefix(self.namespace),
                    "subject": n(headers.get("ce_subject")),
                    "data": {
                        k: name(v) for k, v in json.loads(payload).items() if k != "opened_at"
                    },
                }
                for event_type, topic, headers, payload in events
            ],
        }

    async def remove(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            case_ids = select(Case.id).where(Case.dossier_id.in_(self.dossiers))
            for model in (Timer, Step, CaseAction):
                await session.execute(delete(model).where(model.case_id.in_(case_ids)))
            await session.execute(delete(Case).where(Case.dossier_id.in_(self.dossiers)))
            outbox = MESSAGING.outbox
            await session.execute(
                delete(outbox).where(outbox.c.key.in_([str(i) for i in self.dossiers]))
            )


def row_of(model: Any) -> dict[str, Any]:
    return {c.key: getattr(model, c.key) for c in model.__table__.columns}


@pytest.fixture
async def workflow(engine: AsyncEngine, database_url: str) -> AsyncIterator[Workflow]:
    wf = Workflow(engine, database_url)
    try:
        yield wf
    finally:
        await wf.remove()


async def test_a_run_of_receipts_opens_what_opening_them_one_by_one_opens(
    workflow: Workflow, procedures: Procedures
) -> None:
    before, run = receipts(procedures)
    together, alone = DossierSet(10), DossierSet(10)

    assert await workflow.apply_many([together.envelope(r) for r in before]) == 1
    batch = [together.envelope(r) for r in run]
    # The same delivery twice in one poll is one event to the inbox.
    assert await workflow.apply_many([*batch[:6], batch[5], *batch[6:]]) == len(run)

    assert await workflow.apply_one_by_one([alone.envelope(r) for r in before]) == 1
    assert await workflow.apply_one_by_one([alone.envelope(r) for r in run]) == len(run)

    got, expected = await workflow.snapshot(together), await workflow.snapshot(alone)
    assert got == expected

    cases = {c["dossier_id"]: c for c in got["cases"]}
    # One case per dossier, the first receipt's, at version 1 (its ETag "1"), pointing at its
    # one step.
    assert sorted(cases) == sorted(f"dossier {i}" for i in range(10))
    assert {c["version"] for c in cases.values()} == {1}
    assert all(c["current_step_id"] == f"step 1 of {d}" for d, c in cases.items())
    assert cases["dossier 0"]["unit_path"] == WARD
    assert cases["dossier 3"]["procedure_key"] == procedures.police_first
    assert cases["dossier 3"]["route_version"] == 2
    assert cases["dossier 5"]["route_version"] is None
    # Timed in hours: by the catalogue for the receipt that did not say, by intake otherwise.
    hours_a_day = calendar().working_day_length / dt.timedelta(hours=1)
    assert cases["dossier 7"]["processing_working_days"] == pytest.approx(16 / hours_a_day)
    assert cases["dossier 8"]["processing_working_days"] == pytest.approx(4 / hours_a_day)

    steps = {s["case_id"].removeprefix("case of "): s for s in got["steps"]}
    assert len(got["steps"]) == 10
    assert {s["seq"] for s in steps.values()} == {1}
    assert steps["dossier 0"]["agency_code"] == f"motcua-{HOAN_KIEM}"
    assert steps["dossier 2"]["agency_code"] == f"motcua-{BA_DINH}"
    # The newest route of the procedure: its first step at the province's police.
    assert (steps["dossier 3"]["name"], steps["dossier 3"]["agency_code"]) == (
        "verify_residence",
        f"congan-{HANOI}",
    )
    # Received at the province itself: its public service centre does the desk's work.
    assert steps["dossier 4"]["agency_code"] == f"ttphcc-{HANOI}"
    assert steps["dossier 6"]["agency_code"] is None

    # Each case: its own deadline and its first step's, armed.
    assert [(t["case_id"], t["kind"], t["step_id"], t["fired_at"]) for t in got["timers"]] == [
        timer
        for i in range(10)
        for timer in (
            (f"case of dossier {i}", "case_due", None, None),
            (f"case of dossier {i}", "step_due", f"step 1 of dossier {i}", None),
        )
    ]
    assert [a["action"] for a in got["actions"]] == ["open"] * 10
    # The events, case by case in the order the receipts came: opened, then its step assigned.
    assert [(e["type"], e["subject"]) for e in got["events"]] == [
        pair
        for i in range(10)
        for pair in (
            ("vn.motcua.case.opened.v1", f"dossier {i}"),
            ("vn.motcua.step.assigned.v1", f"dossier {i}"),
        )
    ]
    assigned = [e["data"] for e in got["events"] if e["type"] == "vn.motcua.step.assigned.v1"]
    assert [(e["case_id"], e["step_id"], e["via"]) for e in assigned] == [
        (f"case of dossier {i}", f"step 1 of dossier {i}", "open") for i in range(10)
    ]
    assert assigned[3]["agency_code"] == f"congan-{HANOI}"


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements ``engine`` sends while the block runs."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


async def statements_to_open(workflow: Workflow, procedures: Procedures, size: int) -> list[str]:
    """The statements that open ``size`` dossiers' cases in one run."""
    mix = [NEWBORN, LAND, procedures.police_first, procedures.hours_timed, None]
    units = [WARD, OTHER_WARD, HANOI]
    dossiers = DossierSet(size)
    run = [
        dossiers.envelope(
            Receipt(i, mix[i % len(mix)], units[i % len(units)], 5 + i % 20, minutes_after=i)
        )
        for i in range(size)
    ]
    with statements(workflow.engine) as sent:
        assert await workflow.apply_many(run) == size
    async with workflow.sessionmaker() as session:
        assert await count_cases(session, dossiers) == size
    return sent


async def count_cases(session: AsyncSession, dossiers: DossierSet) -> int:
    found = await session.scalars(select(Case.id).where(Case.dossier_id.in_(dossiers.ids)))
    return len(found.all())


async def test_a_run_of_a_hundred_receipts_costs_the_statements_of_a_run_of_three(
    workflow: Workflow, procedures: Procedures
) -> None:
    # The calendar is read once and then kept; the first run pays for it.
    await statements_to_open(workflow, procedures, 3)
    small = await statements_to_open(workflow, procedures, 3)
    large = await statements_to_open(workflow, procedures, 100)
    # The inbox; the routes and agencies read; the cases, their action log, steps, timers and
    # events written: one statement each, whatever the run's length.
    assert len(large) == len(small) <= 8, large


async def test_a_receipt_the_cases_table_refuses_fails_its_run_and_alone_only_itself(
    workflow: Workflow, procedures: Procedures
) -> None:
    dossiers = DossierSet(3)
    run = [dossiers.envelope(Receipt(i, NEWBORN, WARD, 10, minutes_after=i)) for i in range(3)]
    # A dossier code longer than the column holds is refused, never cut to fit: the run rolls
    # back whole (inbox rows included), and the runner's retry event by event then opens the
    # others and leaves only this one failing, for the dead-letter queue.
    data = run[1].data
    assert isinstance(data, DossierReceived)
    run[1] = wrap(data.model_copy(update={"dossier_code": "X" * 41}), source="/motcua/intake")
    with pytest.raises(DBAPIError, match="too long"):
        await workflow.apply_many(run)
    async with workflow.sessionmaker() as session:
        assert await count_cases(session, dossiers) == 0

    assert await workflow.apply_one_by_one([run[0]]) == 1
    with pytest.raises(DBAPIError, match="too long"):
        await workflow.apply_one_by_one([run[1]])
    assert await workflow.apply_one_by_one([run[2]]) == 1
    async with workflow.sessionmaker() as session:
        assert await count_cases(session, dossiers) == 2
