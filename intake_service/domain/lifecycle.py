"""The dossier lifecycle at the one-stop desk, as data: (status, action) → next status, with
the roles allowed. Checked in one place (:func:`decide`) and rendered into the API docs.

The role ``workflow`` stands for workflow's events: a case opened (processing starts), paused for
a supplement or a financial obligation, resumed, apologised for, and resolved. They are rows of
the same table, applied through the same function as the desk's actions, so the handlers that
apply them ask :func:`decide` as the routes do; an event the table has no move for (a
redelivery, or a dossier withdrawn meanwhile) changes nothing. A dossier awaits a supplement either before reception
(the desk's check) or during processing (the processing agency's request): the phase is part of
the key, since answering the first sends the dossier back to the desk and answering the second
sends it back to processing."""

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
    awaiting_financial_obligation = "awaiting_financial_obligation"
    resolved = "resolved"
    returned = "returned"


STATUS_LABELS_VI = {
    DossierStatus.submitted: "Đã nộp, chờ kiểm tra",
    DossierStatus.awaiting_supplement: "Chờ bổ sung, hoàn thiện hồ sơ",
    DossierStatus.received: "Đã tiếp nhận",
    DossierStatus.refused: "Từ chối tiếp nhận",
    DossierStatus.withdrawn: "Đã rút hồ sơ",
    DossierStatus.in_processing: "Đang xử lý",
    DossierStatus.awaiting_financial_obligation: "Chờ thực hiện nghĩa vụ tài chính",
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
    request_financial_obligation = "request_financial_obligation"
    resume = "resume"
    start_processing = "start_processing"
    apologise = "apologise"
    resolve = "resolve"
    reject_after_examination = "reject_after_examination"


ACTION_LABELS_VI = {
    Action.receive: "Tiếp nhận hồ sơ",
    Action.request_supplement: "Yêu cầu bổ sung, hoàn thiện hồ sơ",
    Action.supplement: "Bổ sung hồ sơ",
    Action.refuse: "Từ chối tiếp nhận",
    Action.withdraw: "Rút hồ sơ",
    Action.return_result: "Trả kết quả",
    Action.request_financial_obligation: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Action.resume: "Tiếp tục xử lý",
    Action.start_processing: "Bắt đầu xử lý",
    Action.apologise: "Xin lỗi, hẹn lại ngày trả kết quả",
    Action.resolve: "Có kết quả giải quyết",
    Action.reject_after_examination: "Không giải quyết (có văn bản trả lời)",
}

S = DossierStatus
OFFICERS = frozenset({"receptionist"})
SUBMITTERS = frozenset({"applicant", "receptionist", "integration"})
# Not a token's role: the transitions that workflow's events make (see the module's doc).
WORKFLOW = frozenset({"workflow"})


class Phase(StrEnum):
    """Whether the dossier was received (its case is being processed) or not yet."""

    any = "any"
    reception = "reception"
    processing = "processing"


@dataclass(frozen=True)
class Transition:
    source: DossierStatus
    action: Action
    target: DossierStatus
    roles: frozenset[str]
    phase: Phase = Phase.any


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.submitted, Action.receive, S.received, OFFICERS),
    Transition(S.submitted, Action.request_supplement, S.awaiting_supplement, OFFICERS),
    Transition(S.submitted, Action.refuse, S.refused, OFFICERS),
    Transition(S.submitted, Action.withdraw, S.withdrawn, SUBMITTERS),
    Transition(S.awaiting_supplement, Action.supplement, S.submitted, SUBMITTERS, Phase.reception),
    Transition(S.awaiting_supplement, Action.withdraw, S.withdrawn, SUBMITTERS),
    # Once received the legal clock runs; the applicant may still withdraw before a result.
    Transition(S.received, Action.withdraw, S.withdrawn, SUBMITTERS),
    Transition(S.in_processing, Action.withdraw, S.withdrawn, SUBMITTERS),
    # Pauses during processing: the case's clock stops until the applicant answers.
    Transition(S.in_processing, Action.request_supplement, S.awaiting_supplement, WORKFLOW),
    Transition(
        S.awaiting_supplement, Action.supplement, S.in_processing, SUBMITTERS, Phase.processing
    ),
    Transition(S.awaiting_supplement, Action.resume, S.in_processing, WORKFLOW, Phase.processing),
    Transition(
        S.in_processing,
        Action.request_financial_obligation,
        S.awaiting_financial_obligation,
        WORKFLOW,
    ),
    # Paying is payment's business; workflow resumes the case on payment.succeeded.
    Transition(S.awaiting_financial_obligation, Action.resume, S.in_processing, WORKFLOW),
    Transition(S.awaiting_financial_obligation, Action.withdraw, S.withdrawn, SUBMITTERS),
    Transition(S.resolved, Action.return_result, S.returned, OFFICERS),
    # Workflow opened the case: the received dossier is being processed.
    Transition(S.received, Action.start_processing, S.in_processing, WORKFLOW),
    # An apology slip moves the appointment, not the status; a result ends processing, whatever
    # the case was waiting on (a result supersedes a pause).
    *(
        Transition(source, action, target, WORKFLOW, phase)
        for source, phase in (
            (S.received, Phase.any),
            (S.in_processing, Phase.any),
            (S.awaiting_supplement, Phase.processing),
            (S.awaiting_financial_obligation, Phase.any),
        )
        for action, target in (
            (Action.apologise, source),
            (Action.resolve, S.resolved),
            (Action.reject_after_examination, S.resolved),
        )
    ),
)
_TABLE = {(t.source, t.action, t.phase): t for t in TRANSITIONS}


class RoleNotAllowed(Exception):
    """None of the caller's roles may take this action at all."""


class NotAllowedInStatus(Exception):
    def __init__(self, status: DossierStatus, action: Action) -> None:
        super().__init__(f"{action} is not possible while the dossier is {status}")
        self.status = status
        self.action = action
        self.allowed = sorted({t.action for t in TRANSITIONS if t.source == status})


def roles_for(action: Action) -> frozenset[str]:
    return frozenset().union(*(t.roles for t in TRANSITIONS if t.action == action))


def phase_of(received: bool) -> Phase:
    return Phase.processing if received else Phase.reception


def transition_for(status: DossierStatus, action: Action, phase: Phase) -> Transition | None:
    return _TABLE.get((status, action, phase)) or _TABLE.get((status, action, Phase.any))


def decide(
    status: DossierStatus,
    action: Action,
    roles: frozenset[str],
    *,
    received: bool = False,
) -> DossierStatus:
    """The next status, or why not: a role problem (403) before a state problem (409).
    ``received``: the dossier was received (its phase is processing)."""
    if roles.isdisjoint(roles_for(action)):
        raise RoleNotAllowed(action)
    transition = transition_for(status, action, phase_of(received))
    if transition is None:
        raise NotAllowedInStatus(status, action)
    if roles.isdisjoint(transition.roles):
        raise RoleNotAllowed(action)
    return transition.target


def supplement_requests_exhausted(previous_requests: int) -> bool:
    """At reception a supplement is requested once, listing everything missing (Decree 61)."""
    return previous_requests >= 1


def may_answer_supplement(
    roles: frozenset[str],
    caller: str,
    *,
    applicant_id_number: str,
    representative_id_number: str | None = None,
    submitted_by: str,
    desk_covers_unit: bool,
) -> bool:
    """Who answers a supplement request: the applicant, or the authorised representative who
    filed for them, only their own dossier; the desk of the dossier's unit, on the applicant's
    behalf; an integration client, only a dossier it submitted."""
    if "applicant" in roles and caller in (applicant_id_number, representative_id_number):
        return True
    if "receptionist" in roles and desk_covers_unit:
        return True
    return "integration" in roles and caller == submitted_by


def markdown_table() -> str:
    def source(t: Transition) -> str:
        return str(t.source) if t.phase == Phase.any else f"{t.source} ({t.phase})"

    rows = [
        f"| {source(t)} | `{t.action}` ({ACTION_LABELS_VI[t.action]}) | {t.target} | "
        f"{', '.join(sorted(t.roles)).replace('workflow', 'workflow (event)')} |"
        for t in TRANSITIONS
    ]
    return "\n".join(["| from | action | to | roles |", "|---|---|---|---|", *rows])
