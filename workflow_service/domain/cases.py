"""Case statuses; the route, step and action table grow here."""

from enum import StrEnum


class CaseStatus(StrEnum):
    open = "open"
    paused = "paused"
    resolved = "resolved"
    rejected = "rejected"
