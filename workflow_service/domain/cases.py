"""What may be done to a case in each state, as data: (case status, step status, action) →
allowed, and whether only the step's claimant may do it. Who may do it, at which agency and
step, is the authority table (:mod:`.authority`), which checks this one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


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


# How a step came to start, and how one ended, as the events spell them.
StepVia = Literal["open", "complete", "send_back", "transfer"]
StepOutcome = Literal["done", "sent_back", "transferred", "closed"]


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


def holds(rule_roles: frozenset[str], officer_roles: frozenset[str], step_role: str) -> bool:
    effective = {step_role if r == STEP_ROLE else r for r in rule_roles}
    return not effective.isdisjoint(officer_roles)


@dataclass(frozen=True)
class Rule:
    case_status: CaseStatus
    step_status: StepStatus | None
    action: CaseAction
    # A claimed step is worked only by the officer who claimed it (approvers excepted where
    # the authority table lets them act: that is what approvers are for).
    claimant_only: bool = False


C, St, A = CaseStatus, StepStatus, CaseAction

# Who may do each action, and at which agency, is the authority table (domain.authority).
RULES: tuple[Rule, ...] = (
    Rule(C.open, St.waiting, A.claim),
    Rule(C.open, St.waiting, A.transfer),
    Rule(C.open, St.in_progress, A.complete, claimant_only=True),
    Rule(C.open, St.in_progress, A.send_back, claimant_only=True),
    Rule(C.open, St.in_progress, A.transfer),
    Rule(C.open, St.in_progress, A.request_supplement, claimant_only=True),
    Rule(C.open, St.in_progress, A.request_financial_obligation, claimant_only=True),
    Rule(C.paused, St.in_progress, A.resume),
    Rule(C.open, St.in_progress, A.resolve, claimant_only=True),
    Rule(C.open, St.in_progress, A.reject, claimant_only=True),
)
_TABLE = {(r.case_status, r.step_status, r.action): r for r in RULES}


class ActionRefused(Exception):
    """Base of the reasons an action is refused."""


class NotAllowedNow(ActionRefused):
    def __init__(self, case_status: CaseStatus, step_status: StepStatus, action: CaseAction):
        super().__init__(
            f"{action} is not possible while the case is {case_status} and its step {step_status}"
        )
        self.allowed = [
            r.action for r in RULES if (r.case_status, r.step_status) == (case_status, step_status)
        ]


def rule_for(case_status: CaseStatus, step_status: StepStatus, action: CaseAction) -> Rule:
    """The state rule allowing ``action`` now, or :class:`NotAllowedNow` (409)."""
    rule = _TABLE.get((case_status, step_status, action))
    if rule is None:
        raise NotAllowedNow(case_status, step_status, action)
    return rule


def check_state(case_status: CaseStatus, step_status: StepStatus, action: CaseAction) -> None:
    rule_for(case_status, step_status, action)


def markdown_table() -> str:
    rows = [
        f"| {r.case_status} | {r.step_status} | `{r.action}` ({ACTION_LABELS_VI[r.action]}) | "
        f"{'the claimant (or an approver)' if r.claimant_only else 'anyone allowed'} |"
        for r in RULES
    ]
    return "\n".join(["| case | step | action | who |", "|---|---|---|---|", *rows])
