"""Whose cases a principal may see at all: an applicant their own (by the pseudonym of their ID
number, never by a unit the token may also carry), an officer those of their unit's subtree.
Others do not exist for them (404)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from shared.auth import Principal, Role, unit_scope
from workflow_service.db.models import Case

# Roles that make a token an officer's (or a system's) rather than a citizen's.
_OFFICER_ROLES = tuple(r for r in Role if r is not Role.applicant)


def is_applicant_only(principal: Principal) -> bool:
    return Role.applicant in principal.roles and not principal.has_role(*_OFFICER_ROLES)


def case_scope(principal: Principal) -> ColumnElement[bool]:
    if is_applicant_only(principal):
        if not principal.applicant_ref:
            return false()
        return Case.applicant_ref == principal.applicant_ref
    return unit_scope(Case.unit_path, principal)
