"""The dossier lifecycle at the one-stop desk, as data: (status, action) → next status, with
the roles allowed. Checked in one place (:func:`decide`) and rendered into the API docs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DossierStatus(StrEnum):
    submitted = "submitted"
    awaiting_supplement = "awaiting_supplement"
    received = "received"
    refused = "refused"
    withdrawn = "withdrawn"
    in_processing = "in_processing"
    resolved = "resolved"
    returned = "returned"


STATUS_LABELS_VI = {
    DossierStatus.submitted: "Đã nộp, chờ kiểm tra",
    DossierStatus.awaiting_supplement: "Chờ bổ sung, hoàn thiện hồ sơ",
    DossierStatus.received: "Đã tiếp nhận",
    DossierStatus.refused: "Từ chối tiếp nhận",
    DossierStatus.withdrawn: "Đã rút hồ sơ",
    DossierStatus.in_processing: "Đang xử lý",
    DossierStatus.resolved: "Đã có kết quả",
    DossierStatus.returned: "Đã trả kết quả",
}


class Action(StrEnum):
    receive = "receive"
    request_supplement = "request_supplement"
    supplement = "supplement"
    refuse = "refuse"
    withdraw = "withdraw"
    return_result = "return_result"


ACTION_LABELS_VI = {
    Action.receive: "Tiếp nhận hồ sơ",
    Action.request_supplement: "Yêu cầu bổ sung, hoàn thiện hồ sơ",
    Action.supplement: "Bổ sung hồ sơ",
    Action.refuse: "Từ chối tiếp nhận",
    Action.withdraw: "Rút hồ sơ",
    Action.return_result: "Trả kết quả",
}

S = DossierStatus
OFFICERS = frozenset({"receptionist"})
SUBMITTERS = frozenset({"applicant", "receptionist", "integration"})


@dataclass(frozen=True)
class Transition:
    source: DossierStatus
    action: Action
    target: DossierStatus
    roles: frozenset[str]


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.submitted, Action.receive, S.received, OFFICERS),
    Transition(S.submitted, Action.request_supplement, S.awaiting_supplement, OFFICERS),
    Transition(S.submitted, Action.refuse, S.refused, OFFICERS),
    Transition(S.submitted, Action.withdraw, S.withdrawn, SUBMITTERS),
    Transition(S.awaiting_supplement, Action.supplement, S.submitted, SUBMITTERS),
    Transition(S.awaiting_supplement, Action.withdraw, S.withdrawn, SUBMITTERS),
    # Once received the legal clock runs; the applicant may still withdraw before a result.
    Transition(S.received, Action.withdraw, S.withdrawn, SUBMITTERS),
    Transition(S.in_processing, Action.withdraw, S.withdrawn, SUBMITTERS),
    Transition(S.resolved, Action.return_result, S.returned, OFFICERS),
)
_TABLE = {(t.source, t.action): t for t in TRANSITIONS}


class RoleNotAllowed(Exception):
    """None of the caller's roles may take this action at all."""


class NotAllowedInStatus(Exception):
    def __init__(self, status: DossierStatus, action: Action) -> None:
        super().__init__(f"{action} is not possible while the dossier is {status}")
        self.status = status
        self.action = action
        self.allowed = [t.action for t in TRANSITIONS if t.source == status]


def roles_for(action: Action) -> frozenset[str]:
    return frozenset().union(*(t.roles for t in TRANSITIONS if t.action == action))


def decide(status: DossierStatus, action: Action, roles: frozenset[str]) -> DossierStatus:
    """The next status, or why not: a role problem (403) before a state problem (409)."""
    if roles.isdisjoint(roles_for(action)):
        raise RoleNotAllowed(action)
    transition = _TABLE.get((status, action))
    if transition is None:
        raise NotAllowedInStatus(status, action)
    if roles.isdisjoint(transition.roles):
        raise RoleNotAllowed(action)
    return transition.target


def supplement_requests_exhausted(previous_requests: int) -> bool:
    """At reception a supplement is requested once, listing everything missing (Decree 61)."""
    return previous_requests >= 1


def markdown_table() -> str:
    rows = [
        f"| {t.source} | `{t.action}` ({ACTION_LABELS_VI[t.action]}) | {t.target} | {', '.join(sorted(t.roles))} |"
        for t in TRANSITIONS
    ]
    return "\n".join(["| from | action | to | roles |", "|---|---|---|---|", *rows])
