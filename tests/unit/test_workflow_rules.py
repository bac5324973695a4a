"""Workflow rules without a database: route templates, the action table, due instants."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import VN_TZ, WorkingCalendar
from shared.routes import InvalidRoute, RouteTemplate
from workflow_service.domain import cases as c
from workflow_service.domain.deadlines import Timeliness, after_pause, step_due, timeliness

SEED = Path(__file__).resolve().parents[2] / "intake_service" / "seed" / "procedures.json"


def seeded_routes() -> dict[str, RouteTemplate]:
    procedures = json.loads(SEED.read_text())["procedures"]
    return {
        p["key"]: RouteTemplate.from_dicts(p["key"], 1, p["route"])
        for p in procedures
        if p.get("route")
    }


def at(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=VN_TZ)


def test_the_two_example_chains_are_valid_templates() -> None:
    routes = seeded_routes()
    newborn = routes["lien-thong-khai-sinh-thuong-tru-bhyt"]
    assert [s.agency_kind for s in newborn.steps] == [
        "one_stop_desk",
        "commune_justice",
        "police",
        "social_insurance",
        "one_stop_desk",
    ]
    land = routes["dang-ky-bien-dong-chuyen-nhuong-dat"]
    assert land.step("financial_obligation").pauses_clock_until == "payment.succeeded"
    assert land.successors("survey_and_check") == ("financial_obligation",)
    assert land.successors("return_result") == ()
    assert land.earlier("update_certificate") == (
        "receive",
        "survey_and_check",
        "financial_obligation",
    )
    assert land.first.role == "receptionist" and land.step("survey_and_check").role == "specialist"


def test_templates_refuse_shares_not_adding_up_and_unknown_branches() -> None:
    with pytest.raises(InvalidRoute):
        RouteTemplate.from_dicts("x", 1, [{"step": "a", "agency_kind": "police", "share": 0.5}])
    with pytest.raises(InvalidRoute):
        RouteTemplate.from_dicts(
            "x", 1, [{"step": "a", "agency_kind": "police", "share": 1, "next": ["nowhere"]}]
        )
    with pytest.raises(InvalidRoute):
        RouteTemplate.from_dicts("x", 1, [{"agency_kind": "police", "share": 1}])
    branching = RouteTemplate.from_dicts(
        "x",
        1,
        [
            {"step": "a", "agency_kind": "one_stop_desk", "share": 0.5, "next": ["c", "b"]},
            {"step": "b", "agency_kind": "police", "share": 0.25},
            {"step": "c", "agency_kind": "tax_authority", "share": 0.25},
        ],
    )
    assert branching.successors("a") == ("c", "b")
    assert RouteTemplate.from_dicts("x", 1, branching.to_dicts()) == branching


def test_only_the_step_role_claims_and_only_the_claimant_completes() -> None:
    kw = {"step_role": "specialist", "claimed_by": None}
    rule = c.decide(
        c.CaseStatus.open,
        c.StepStatus.waiting,
        c.CaseAction.claim,
        officer="a",
        officer_roles=frozenset({"specialist"}),
        **kw,
    )
    assert rule.action is c.CaseAction.claim
    with pytest.raises(c.RoleNotAllowed):
        c.decide(
            c.CaseStatus.open,
            c.StepStatus.waiting,
            c.CaseAction.claim,
            officer="b",
            officer_roles=frozenset({"receptionist"}),
            **kw,
        )
    with pytest.raises(c.NotClaimant):
        c.decide(
            c.CaseStatus.open,
            c.StepStatus.in_progress,
            c.CaseAction.complete,
            officer="b",
            officer_roles=frozenset({"specialist"}),
            step_role="specialist",
            claimed_by="a",
        )
    with pytest.raises(c.NotAllowedNow) as refused:
        c.decide(
            c.CaseStatus.paused,
            c.StepStatus.in_progress,
            c.CaseAction.complete,
            officer="a",
            officer_roles=frozenset({"specialist"}),
            step_role="specialist",
            claimed_by="a",
        )
    assert refused.value.allowed == [c.CaseAction.resume]
    assert "| paused | in_progress | `resume`" in c.markdown_table()


def test_step_due_counts_its_share_of_office_time_across_a_weekend() -> None:
    calendar = WorkingCalendar()
    # 10 working days × 7.5 h × 0.2 = 15 h of office time from Thursday 2026-11-26 09:00:
    # Thu 09:00–17:00 gives 6 h (lunch excluded), Fri 7.5 h, Mon 1.5 h → Monday 09:00.
    assert step_due(calendar, at(2026, 11, 26), 10, 0.2) == at(2026, 11, 30, 9, 0)


def test_a_pause_across_a_holiday_moves_the_due_instant_by_office_time_only() -> None:
    # 2/9/2026 is a Wednesday; 1/9 and 2/9 are days off.
    calendar = WorkingCalendar.of(holidays=[dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    due = at(2026, 9, 10, 17, 0)
    # Paused Friday 28/8 at 15:00, resumed Thursday 3/9 at 09:00: Fri 2 h + Mon 31/8 7.5 h
    # + Thu 1.5 h = 11 h of office time.
    moved = after_pause(calendar, due, at(2026, 8, 28, 15), at(2026, 9, 3, 9))
    assert moved == calendar.shift_by_working_time(due, dt.timedelta(hours=11))
    assert moved == at(2026, 9, 14, 11, 0)


def test_timeliness_is_judged_by_the_due_day() -> None:
    due = at(2026, 12, 4, 17, 0)
    assert timeliness(at(2026, 12, 3, 16), due) is Timeliness.early
    assert timeliness(at(2026, 12, 4, 8), due) is Timeliness.on_time
    assert timeliness(at(2026, 12, 4, 17, 1), due) is Timeliness.late


@given(
    start=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 1)).map(
        lambda d: d.replace(tzinfo=VN_TZ)
    ),
    days=st.integers(1, 60),
    share=st.sampled_from([0.1, 0.2, 0.3, 0.4, 1.0]),
)
def test_a_step_due_never_falls_outside_office_hours_and_uses_exactly_its_budget(
    start: dt.datetime, days: int, share: float
) -> None:
    calendar = WorkingCalendar()
    due = step_due(calendar, start, days, share)
    assert calendar.is_working_day(due.date())
    assert calendar.working_time_between(start, due) == calendar.working_day_length * days * share
