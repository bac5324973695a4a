"""Route templates: the steps a dossier of a procedure goes through, as data.

A template lists its steps in their usual order. Each step names the kind of agency that works
on it (the concrete agency is chosen from the case's unit when the step starts), the role that
may claim it, and the share of the procedure's total processing time it may take. A step may
name the steps that can follow it (a branch); otherwise the next one in the list follows.

The last step of a route is its deciding step: only there may the case be resolved or rejected,
by an approver of that step's agency, whose key signs the result. Handing the result to the
applicant is the desk's act in intake (return-result), not a step of the route.

Procedures without a route of their own are decided by one agency: the desk hands over, the
ward's specialist office examines and decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.vocabulary import AgencyKind

DESK_ROLE = "receptionist"
SPECIALIST_ROLE = "specialist"
DESK_AGENCY = AgencyKind.one_stop_desk
# Steps whose agency kind is the desk are worked by receptionists; every other step by
# specialists of the agency, unless the template says otherwise.
DEFAULT_ROLES: dict[str, str] = {DESK_AGENCY: DESK_ROLE}
SHARE_TOLERANCE = 1e-6
# The kinds of agency a step may name: each is mapped to a concrete agency code of the case's
# unit (workflow_service.domain.assignment), seeded by intake for every ward or province, so no
# step can land at an agency that does not exist.
# Kinds every unit is seeded with, so a step of a template always finds an agency.
AGENCY_KINDS = frozenset(AgencyKind) - {AgencyKind.department, AgencyKind.other}


class InvalidRoute(ValueError):
    """A template that cannot be followed: shares not adding up, unknown branch targets …"""


@dataclass(frozen=True)
class StepTemplate:
    name: str
    agency_kind: str
    share: float
    role: str = SPECIALIST_ROLE
    next: tuple[str, ...] = ()
    # The event that resumes a clock this step pauses, e.g. "payment.succeeded".
    pauses_clock_until: str | None = None
    label_vi: str | None = None
    # Kinds of agency this step may be transferred to without an approver's ad-hoc decision.
    transfer_to: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepTemplate:
        agency_kind = str(data["agency_kind"])
        transfer_to = data.get("transfer_to", ())
        if isinstance(transfer_to, str):
            raise TypeError("transfer_to must be a list of agency kinds")
        return cls(
            name=str(data["step"]),
            agency_kind=agency_kind,
            share=float(data["share"]),
            role=str(data.get("role") or DEFAULT_ROLES.get(agency_kind, SPECIALIST_ROLE)),
            next=tuple(str(n) for n in data.get("next", ())),
            pauses_clock_until=data.get("pauses_clock_until"),
            label_vi=data.get("label_vi"),
            transfer_to=tuple(str(k) for k in transfer_to),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.name,
            "agency_kind": self.agency_kind,
            "share": self.share,
            "role": self.role,
        }
        if self.next:
            out["next"] = list(self.next)
        if self.pauses_clock_until:
            out["pauses_clock_until"] = self.pauses_clock_until
        if self.label_vi:
            out["label_vi"] = self.label_vi
        if self.transfer_to:
            out["transfer_to"] = list(self.transfer_to)
        return out


@dataclass(frozen=True)
class RouteTemplate:
    procedure_key: str
    version: int
    steps: tuple[StepTemplate, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.steps:
            raise InvalidRoute("a route needs at least one step")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise InvalidRoute("step names must be unique within a route")
        for step in self.steps:
            if not 0 < step.share <= 1:
                raise InvalidRoute(f"step {step.name}: share must be in (0, 1]")
            unknown = set(step.next) - set(names)
            if unknown:
                raise InvalidRoute(f"step {step.name} branches to unknown steps {sorted(unknown)}")
            kinds = {step.agency_kind, *step.transfer_to} - AGENCY_KINDS
            if kinds:
                raise InvalidRoute(f"step {step.name} names unknown agency kinds {sorted(kinds)}")
        total = math.fsum(s.share for s in self.steps)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise InvalidRoute(f"the steps' shares add up to {total:g}, not 1")

    @classmethod
    def from_dicts(
        cls, procedure_key: str, version: int, steps: Sequence[Mapping[str, Any]]
    ) -> RouteTemplate:
        try:
            parsed = tuple(StepTemplate.from_dict(s) for s in steps)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidRoute(f"malformed step: {exc}") from exc
        return cls(procedure_key, version, parsed)

    @classmethod
    def single_agency(cls, procedure_key: str, version: int = 1) -> RouteTemplate:
        return cls(
            procedure_key,
            version,
            (
                StepTemplate("handover", DESK_AGENCY, 0.1, DESK_ROLE, label_vi="Chuyển hồ sơ"),
                StepTemplate("examine", "specialist_office", 0.9, label_vi="Thẩm định, giải quyết"),
            ),
        )

    def step(self, name: str) -> StepTemplate:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    @property
    def first(self) -> StepTemplate:
        return self.steps[0]

    def index(self, name: str) -> int:
        return [s.name for s in self.steps].index(name)

    def successors(self, name: str) -> tuple[str, ...]:
        """Where work may go after ``name``: its branches, or the step after it (none at the end)."""
        step = self.step(name)
        if step.next:
            return step.next
        i = self.index(name)
        return (self.steps[i + 1].name,) if i + 1 < len(self.steps) else ()

    def is_deciding(self, name: str) -> bool:
        """The deciding step: where the route ends, the only step a case is resolved or
        rejected at."""
        return not self.successors(name)

    def earlier(self, name: str) -> tuple[str, ...]:
        """Steps a case may be sent back to from ``name``."""
        return tuple(s.name for s in self.steps[: self.index(name)])

    def to_dicts(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.steps]
