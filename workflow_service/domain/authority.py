"""Who may act on a step, as data: (role held, relation to the step's agency, action) → allowed,
with where on the route and, for transfers, to which agencies.

An officer's agencies are the one the identity provider names in the token (``agency`` claim)
and those ops recorded for them (agency members); roles come from the token alone. Every action
on a case goes through :func:`authorise`, after the state table of :mod:`.cases`, so the same
rules hold for the API, the result signing and anything that acts on a case later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflow_service.domain import cases as states
from workflow_service.domain.cases import CaseAction, CaseStatus, StepStatus

APPROVER = states.LEADER


class Holder(StrEnum):
    """The role an officer acts in, relative to the step."""

    step_role = "step_role"  # the role the step's template names (receptionist, specialist …)
    approver = "approver"  # lãnh đạo phê duyệt


class Relation(StrEnum):
    """How the officer stands to the agency working the step."""

    member = "member"  # belongs to it (token claim or membership row)
    outsider = "outsider"


class Where(StrEnum):
    any_step = "any_step"
    deciding_step = "deciding_step"  # the route's last step, the only one a case ends at


class Target(StrEnum):
    """Where a transfer goes."""

    route = "route"  # an agency the route lists for this step (transfer_to)
    known_agency = "known_agency"  # any active agency of the agencies table (ad hoc)


HOLDER_LABELS = {Holder.step_role: "the step's role", Holder.approver: "approver"}
HOLDER_LABELS_VI = {Holder.step_role: "vai trò của bước", Holder.approver: "lãnh đạo phê duyệt"}
RELATION_LABELS = {Relation.member: "of the step's agency", Relation.outsider: "of another agency"}
WHERE_LABELS = {Where.any_step: "any step", Where.deciding_step: "the deciding (last) step"}
TARGET_LABELS = {Target.route: "agencies the route lists", Target.known_agency: "any known agency"}


@dataclass(frozen=True)
class Grant:
    action: CaseAction
    holder: Holder
    relation: Relation = Relation.member
    where: Where = Where.any_step
    targets: frozenset[Target] = frozenset()
    # Only the officer the step is assigned to (when it is assigned to anyone) may use this
    # grant; an approver of the step's agency may always (to take over a step).
    assignee_only: bool = False


A, H = CaseAction, Holder
_ROUTE = frozenset({Target.route})
_ANY_KNOWN = frozenset({Target.route, Target.known_agency})

# Only what is listed is allowed; in particular nothing is granted to an officer of another
# agency, and no role but the approver ends a case.
GRANTS: tuple[Grant, ...] = (
    Grant(A.claim, H.step_role, assignee_only=True),
    Grant(A.complete, H.step_role),
    Grant(A.send_back, H.step_role),
    Grant(A.transfer, H.step_role, targets=_ROUTE),
    Grant(A.transfer, H.approver, targets=_ANY_KNOWN),
    Grant(A.request_supplement, H.step_role),
    Grant(A.request_financial_obligation, H.step_role),
    Grant(A.resume, H.step_role),
    Grant(A.resume, H.approver),
    Grant(A.resolve, H.approver, where=Where.deciding_step),
    Grant(A.reject, H.approver, where=Where.deciding_step),
)


@dataclass(frozen=True)
class Officer:
    sub: str
    roles: frozenset[str]
    agencies: frozenset[str]


@dataclass(frozen=True)
class StepView:
    """What the rules need to know of the case's current step."""

    role: str
    agency_code: str | None
    deciding: bool
    claimed_by: str | None = None
    assignee: str | None = None


class Refused(states.ActionRefused):
    """An action the authority table does not allow, with the reason in both languages."""

    def __init__(self, code: str, detail: str, detail_vi: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.detail_vi = detail_vi


def holders(officer: Officer, step_role: str) -> frozenset[Holder]:
    held = set()
    if step_role in officer.roles:
        held.add(Holder.step_role)
    if APPROVER in officer.roles:
        held.add(Holder.approver)
    return frozenset(held)


def relation(officer: Officer, agency_code: str | None) -> Relation:
    return Relation.member if agency_code and agency_code in officer.agencies else Relation.outsider


def grants_for(officer: Officer, step: StepView, action: CaseAction) -> list[Grant]:
    """The grants that let ``officer`` do ``action`` on ``step`` (state aside)."""
    held, rel = holders(officer, step.role), relation(officer, step.agency_code)
    return [
        g
        for g in GRANTS
        if g.action == action
        and g.holder in held
        and g.relation == rel
        and (g.where is Where.any_step or step.deciding)
    ]


def may_transfer_to(officer: Officer, step: StepView, target: Target) -> bool:
    return any(target in g.targets for g in grants_for(officer, step, CaseAction.transfer))


def authorise(
    case_status: CaseStatus,
    step_status: StepStatus,
    action: CaseAction,
    officer: Officer,
    step: StepView,
    *,
    target: Target | None = None,
) -> Grant:
    """The grant that allows ``action``, or :class:`Refused` (403) naming why; authority comes
    before the case's state (409), so an outsider learns nothing of where a case stands."""
    possible = [g for g in GRANTS if g.action == action]
    held = holders(officer, step.role)
    by_role = [g for g in possible if g.holder in held]
    if not by_role:
        roles = sorted({step.role if g.holder is Holder.step_role else APPROVER for g in possible})
        raise Refused(
            "role",
            f"{action} requires the role {' or '.join(roles)}",
            f"Thao tác cần vai trò {' hoặc '.join(roles)}",
        )
    if relation(officer, step.agency_code) is Relation.outsider:
        raise Refused(
            "agency",
            f"only officers of {step.agency_code or 'the step’s agency'} may act on this step",
            f"Chỉ cán bộ của cơ quan {step.agency_code or 'được giao bước'} được thao tác bước này",
        )
    allowed = grants_for(officer, step, action)
    if not allowed:
        raise Refused(
            "deciding-step",
            "a case is resolved or rejected only at its route's deciding (last) step",
            "Chỉ được giải quyết hoặc từ chối hồ sơ ở bước quyết định (bước cuối) của quy trình",
        )
    states.check_state(case_status, step_status, action)
    if (
        states.rule_for(case_status, step_status, action).claimant_only
        and step.claimed_by != officer.sub
        and not any(g.holder is Holder.approver for g in allowed)
    ):
        raise Refused(
            "claimant",
            "the step is being worked by another officer",
            "Bước đang do cán bộ khác xử lý",
        )
    if (
        step.assignee is not None
        and step.assignee != officer.sub
        and Holder.approver not in held
        and all(g.assignee_only for g in allowed)
    ):
        raise Refused(
            "assignee",
            "the step is assigned to another officer",
            "Bước đã được giao cho cán bộ khác",
        )
    if action is CaseAction.transfer and (
        target is None or not any(target in g.targets for g in allowed)
    ):
        raise Refused(
            "transfer-target",
            "the route does not list this agency for the step; only an approver of the "
            "step's agency may transfer elsewhere",
            "Quy trình không cho phép chuyển bước đến cơ quan này; chỉ lãnh đạo cơ quan "
            "được giao bước mới được chuyển đến cơ quan khác",
        )
    return allowed[0]


def markdown_table() -> str:
    """The authority table as the docs show it (README, the OpenAPI description)."""
    rows = [
        f"| `{g.action}` ({states.ACTION_LABELS_VI[g.action]}) | {HOLDER_LABELS[g.holder]} | "
        f"{RELATION_LABELS[g.relation]} | {WHERE_LABELS[g.where]} | "
        f"{', '.join(TARGET_LABELS[t] for t in Target if t in g.targets) or '—'} | "
        f"{'the assignee, if any (or an approver)' if g.assignee_only else '—'} |"
        for g in GRANTS
    ]
    return "\n".join(
        [
            "| action | role | agency relation | where on the route | transfer to | assigned step |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
