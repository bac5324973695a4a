"""Reception rules that need no database: who may submit where, and the appointment."""

from __future__ import annotations

from shared.auth import Principal
from shared.vocabulary import Channel

SUBMITTING_ROLES = ("receptionist", "integration", "applicant")


def may_submit_at(principal: Principal, unit_path: str, channel: Channel) -> bool:
    """Officers and integration clients submit only to units they cover; a citizen may submit
    online to any unit."""
    if principal.has_role("receptionist", "integration") and principal.covers(unit_path):
        return True
    return principal.has_role("applicant") and channel == Channel.online


def may_withdraw(principal: Principal, submitted_by: str) -> bool:
    """Who may withdraw a dossier they can see (seeing it is decided before this).

    The applicant withdraws their own, and a receptionist of the unit at the applicant's request.
    An integration client (LGSP/NGSP, post office) relays only for the people who filed through
    it, so it withdraws only the dossiers it submitted itself: not those filed at the desk, nor
    those of another client of the same unit."""
    if principal.has_role("applicant", "receptionist"):
        return True
    return principal.has_role("integration") and submitted_by == principal.sub
