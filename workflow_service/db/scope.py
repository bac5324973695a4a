"""Whose cases a principal may see at all: an applicant their own (by the pseudonym of their ID
number, never by a unit the token may also carry), an officer those of their unit's subtree.
Others do not exist for them (404)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, unit_scope
from shared.errors import not_found
from shared.http.preconditions import precondition_failed
from workflow_service.db.models import Case, Step

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


async def locked_case(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal, expected_version: int
) -> tuple[Case, Step | None]:
    """The case the principal may see, locked for a change, with its current step: 404 when it
    is not theirs to see, 412 when it changed since they read it (``If-Match``)."""
    case = await session.scalar(
        select(Case).where(Case.id == case_id, case_scope(principal)).with_for_update()
    )
    if case is None:
        raise not_found("case", "hồ sơ xử lý")
    if case.version != expected_version:
        raise precondition_failed()
    step = await session.get(Step, case.current_step_id) if case.current_step_id else None
    return case, step
