"""What officers may do to a case, as data: (case status, step status, action) → outcome, with
the roles allowed. Checked in one place (:func:`decide`) and rendered into the API docs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaseStatus(StrEnum):
    open = "open"
    paused = "paused"
    resolved = "resolved"
    rejected = "rejected"
    withdrawn = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (CaseStatus.resolved, CaseStatus.rejected, CaseStatus.withdrawn)


class StepStatus(StrEnum):
    waiting = "waiting"  # assigned to a role in an agency, nobody has claimed it yet
    in_progress = "in_progress"  # claimed by an officer
    done = "done"
    sent_back = "sent_back"
    transferred = "transferred"
    closed = "closed"  # the case ended while this step was open

    @property
    def is_open(self) -> bool:
        return self in (StepStatus.waiting, StepStatus.in_progress)


class PauseReason(StrEnum):
    supplement = "supplement"
    financial_obligation = "financial_obligation"


class CaseAction(StrEnum):
    claim = "claim"
    complete = "complete"
    send_back = "send_back"
    transfer = "transfer"
    request_supplement = "request_supplement"
    request_financial_obligation = "request_financial_obligation"
    resume = "resume"
    resolve = "resolve"
    reject = "reject"


ACTION_LABELS_VI = {
    CaseAction.claim: "Nhận xử lý",
    CaseAction.complete: "Hoàn thành bước, chuyển bước tiếp theo",
    CaseAction.send_back: "Trả lại bước trước",
    CaseAction.transfer: "Chuyển cơ quan khác",
    CaseAction.request_supplement: "Yêu cầu bổ sung hồ sơ (tạm dừng tính thời gian)",
    CaseAction.request_financial_obligation: "Yêu cầu thực hiện nghĩa vụ tài chính (tạm dừng)",
    CaseAction.resume: "Tiếp tục xử lý",
    CaseAction.resolve: "Giải quyết xong, có kết quả",
    CaseAction.reject: "Từ chối giải quyết (có lý do)",
}

# "step" means: the role the current step's template names (the desk or the specialist office).
STEP_ROLE = "step"
LEADER = "approver"


@dataclass(frozen=True)
class Rule:
    case_status: CaseStatus
    step_status: StepStatus | None
    action: CaseAction
    roles: frozenset[str]
    # A claimed step is worked only by the officer who claimed it.
    claimant_only: bool = False


C, St, A = CaseStatus, StepStatus, CaseAction
_STEP = frozenset({STEP_ROLE})
_STEP_OR_LEADER = frozenset({STEP_ROLE, LEADER})

RULES: tuple[Rule, ...] = (
    Rule(C.open, St.waiting, A.claim, _STEP),
    Rule(C.open, St.waiting, A.transfer, _STEP_OR_LEADER),
    Rule(C.open, St.in_progress, A.complete, _STEP, claimant_only=True),
    Rule(C.open, St.in_progress, A.send_back, _STEP, claimant_only=True),
    Rule(C.open, St.in_progress, A.transfer, _STEP_OR_LEADER),
    Rule(C.open, St.in_progress, A.request_supplement, _STEP, claimant_only=True),
    Rule(C.open, St.in_progress, A.request_financial_obligation, _STEP, claimant_only=True),
    Rule(C.paused, St.in_progress, A.resume, _STEP_OR_LEADER),
    Rule(C.open, St.in_progress, A.resolve, _STEP_OR_LEADER, claimant_only=True),
    Rule(C.open, St.in_progress, A.reject, _STEP_OR_LEADER, claimant_only=True),
)
_TABLE = {(r.case_status, r.step_status, r.action): r for r in RULES}


class ActionRefused(Exception):
    """Base of the reasons an action is refused."""


class RoleNotAllowed(ActionRefused):
    pass


class NotClaimant(ActionRefused):
    pass


class NotAllowedNow(ActionRefused):
    def __init__(self, case_status: CaseStatus, step_status: StepStatus, action: CaseAction):
        super().__init__(
            f"{action} is not possible while the case is {case_status} and its step {step_status}"
        )
        self.allowed = [
            r.action for r in RULES if (r.case_status, r.step_status) == (case_status, step_status)
        ]


def holds(rule_roles: frozenset[str], officer_roles: frozenset[str], step_role: str) -> bool:
    effective = {step_role if r == STEP_ROLE else r for r in rule_roles}
    return not effective.isdisjoint(officer_roles)


def decide(
    case_status: CaseStatus,
    step_status: StepStatus,
    action: CaseAction,
    *,
    officer: str,
    officer_roles: frozenset[str],
    step_role: str,
    claimed_by: str | None,
) -> Rule:
    """The rule that allows ``action``, or why not: a role problem (403) before a state
    problem (409)."""
    possible = [r for r in RULES if r.action == action]
    if not any(holds(r.roles, officer_roles, step_role) for r in possible):
        raise RoleNotAllowed(action)
    rule = _TABLE.get((case_status, step_status, action))
    if rule is None:
        raise NotAllowedNow(case_status, step_status, action)
    if not holds(rule.roles, officer_roles, step_role):
        raise RoleNotAllowed(action)
    # An approver (lãnh đạo) may act on a step someone else claimed: that is what approvers are for.
    if rule.claimant_only and claimed_by != officer and LEADER not in officer_roles:
        raise NotClaimant(action)
    return rule


def markdown_table() -> str:
    rows = [
        f"| {r.case_status} | {r.step_status} | `{r.action}` ({ACTION_LABELS_VI[r.action]}) | "
        f"{', '.join(sorted(r.roles)).replace(STEP_ROLE, 'the step role')}"
        f"{' (claimant)' if r.claimant_only else ''} |"
        for r in RULES
    ]
    return "\n".join(["| case | step | action | roles |", "|---|---|---|---|", *rows])
