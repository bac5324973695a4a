"""Workflow rules without a database: route templates, the action table, due instants."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import VN_TZ, WorkingCalendar
from shared.deadlines import timeliness
from shared.routes import AGENCY_KINDS, InvalidRoute, RouteTemplate
from shared.vocabulary import Timeliness
from workflow_service.domain import authority as au
from workflow_service.domain import cases as c
from workflow_service.domain.assignment import serving
from workflow_service.domain.deadlines import after_pause, step_due, working_days_of_hours

SEED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "procedures.json"


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
    ]
    # The route ends at its deciding step; handing the result over is intake's desk act.
    assert newborn.is_deciding("health_insurance_card") and not newborn.is_deciding("receive")
    land = routes["dang-ky-bien-dong-chuyen-nhuong-dat"]
    assert land.step("financial_obligation").pauses_clock_until == "payment.succeeded"
    assert land.successors("survey_and_check") == ("financial_obligation",)
    assert land.successors("update_certificate") == ()
    assert land.is_deciding("update_certificate")
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


SPECIALIST_STEP = au.StepView(role="specialist", agency_code="congan-01", deciding=False)
DECIDING_STEP = au.StepView(role="specialist", agency_code="bhxh-01", deciding=True)


def officer(sub: str, roles: set[str], *agencies: str) -> au.Officer:
    return au.Officer(sub, frozenset(roles), frozenset(agencies))


def authorise(
    step: au.StepView,
    action: c.CaseAction,
    who: au.Officer,
    case_status: c.CaseStatus = c.CaseStatus.open,
    step_status: c.StepStatus = c.StepStatus.in_progress,
    **kw: object,
) -> au.Grant:
    return au.authorise(case_status, step_status, action, who, step, **kw)  # type: ignore[arg-type]


def refusal(*args: object, **kw: object) -> str:
    with pytest.raises(au.Refused) as refused:
        authorise(*args, **kw)  # type: ignore[arg-type]
    assert refused.value.detail and refused.value.detail_vi
    return refused.value.code


def test_only_an_officer_of_the_steps_agency_with_its_role_claims_and_completes() -> None:
    police = officer("cb.congan", {"specialist"}, "congan-01")
    justice = officer("cb.tuphap", {"specialist"}, "tuphap-00070")
    grant = authorise(SPECIALIST_STEP, c.CaseAction.claim, police, step_status=c.StepStatus.waiting)
    assert grant.holder is au.Holder.step_role
    # The ward justice specialist holds the role but not the agency; a receptionist of the
    # police neither the role.
    assert refusal(SPECIALIST_STEP, c.CaseAction.claim, justice) == "agency"
    desk = officer("cb.tiepnhan", {"receptionist"}, "congan-01")
    assert refusal(SPECIALIST_STEP, c.CaseAction.claim, desk) == "role"
    claimed = au.StepView("specialist", "congan-01", False, claimed_by="someone")
    assert refusal(claimed, c.CaseAction.complete, police) == "claimant"
    with pytest.raises(c.NotAllowedNow) as refused:
        authorise(SPECIALIST_STEP, c.CaseAction.complete, police, c.CaseStatus.paused)
    assert refused.value.allowed == [c.CaseAction.resume]
    assert "| paused | in_progress | `resume`" in c.markdown_table()


def test_cases_end_only_at_the_deciding_step_by_its_agencys_approver() -> None:
    approver = officer("ld.bhxh", {"approver"}, "bhxh-01", "congan-01")
    specialist = officer("cb.bhxh", {"specialist"}, "bhxh-01")
    for action in (c.CaseAction.resolve, c.CaseAction.reject):
        assert refusal(SPECIALIST_STEP, action, approver) == "deciding-step"
        assert refusal(DECIDING_STEP, action, specialist) == "role"
        assert refusal(DECIDING_STEP, action, officer("ld.khac", {"approver"}, "x")) == "agency"
        # The approver acts on the step a specialist claimed: that is what approvers are for.
        claimed = au.StepView("specialist", "bhxh-01", True, claimed_by="cb.bhxh")
        assert authorise(claimed, action, approver).where is au.Where.deciding_step


def test_transfers_go_where_the_route_says_or_ad_hoc_by_an_approver_to_known_agencies() -> None:
    police = officer("cb.congan", {"specialist"}, "congan-01")
    approver = officer("ld.congan", {"approver"}, "congan-01")
    transfer = c.CaseAction.transfer
    assert authorise(SPECIALIST_STEP, transfer, police, target=au.Target.route)
    assert refusal(SPECIALIST_STEP, transfer, police, target=au.Target.known_agency) == (
        "transfer-target"
    )
    assert refusal(SPECIALIST_STEP, transfer, police) == "transfer-target"
    assert authorise(SPECIALIST_STEP, transfer, approver, target=au.Target.known_agency)
    assert refusal(SPECIALIST_STEP, transfer, approver) == "transfer-target"
    assert au.may_transfer_to(approver, SPECIALIST_STEP, au.Target.known_agency)
    assert not au.may_transfer_to(police, SPECIALIST_STEP, au.Target.known_agency)
    outsider = officer("ld.khac", {"approver"}, "vpdkdd-01")
    assert not au.may_transfer_to(outsider, SPECIALIST_STEP, au.Target.known_agency)


def test_nothing_is_granted_to_an_officer_of_another_agency() -> None:
    assert all(g.relation is au.Relation.member for g in au.GRANTS)
    assert {g.action for g in au.GRANTS} == set(c.CaseAction)
    enders = {
        g.holder for g in au.GRANTS if g.action in (c.CaseAction.resolve, c.CaseAction.reject)
    }
    assert enders == {au.Holder.approver}


def test_the_readme_shows_the_authority_table_as_the_code_has_it() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert au.markdown_table() in readme


def test_every_step_kind_resolves_to_an_agency_intake_seeds() -> None:
    from shared.reference import agency_rows, unit_rows

    units = [u for u in unit_rows() if u["code"] in ("01", "00070")]
    seeded = {(row["unit_code"], row["kind"]): row["code"] for row in agency_rows(units)}
    for kind in AGENCY_KINDS:
        assert serving(kind, "01.00070") in seeded, kind
        assert serving(kind, "01") in seeded, kind
    assert seeded[serving("specialist_office", "01.00070")] == "chuyenmon-00070"
    assert seeded[serving("one_stop_desk", "01")] == "ttphcc-01"
    with pytest.raises(InvalidRoute):
        RouteTemplate.from_dicts("x", 1, [{"step": "a", "agency_kind": "cuc-csgt", "share": 1}])
    with pytest.raises(InvalidRoute):
        RouteTemplate.from_dicts(
            "x", 1, [{"step": "a", "agency_kind": "police", "share": 1, "transfer_to": ["nowhere"]}]
        )
    single = RouteTemplate.single_agency("x")
    assert [s.name for s in single.steps] == ["handover", "examine"]
    assert single.is_deciding("examine")
    with_transfer = RouteTemplate.from_dicts(
        "x",
        1,
        [
            {
                "step": "a",
                "agency_kind": "police",
                "share": 1,
                "transfer_to": ["public_service_centre"],
            }
        ],
    )
    assert RouteTemplate.from_dicts("x", 1, with_transfer.to_dicts()) == with_transfer


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


def test_a_procedure_timed_in_working_hours_gives_its_steps_those_hours() -> None:
    calendar = WorkingCalendar()
    day_hours = calendar.working_day_length / dt.timedelta(hours=1)
    assert working_days_of_hours(calendar, day_hours) == 1
    assert working_days_of_hours(calendar, 4) == 4 / day_hours
    started = at(2026, 12, 2, 8)
    due = step_due(calendar, started, working_days_of_hours(calendar, 4), 1.0)
    assert calendar.working_time_between(started, due) == dt.timedelta(hours=4)


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
