"""Scoping every read and write to what the caller may reach, and the role check by act."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from payment_service.db.models import Dossier
from payment_service.domain.authority import Act, roles_for
from shared.auth import Principal, Role, unit_scope
from shared.errors import forbidden


def require(principal: Principal, act: Act) -> None:
    if not principal.has_role(*roles_for(act)):
        raise forbidden(f"{act} requires one of the roles: {', '.join(sorted(roles_for(act)))}")


def is_officer(principal: Principal) -> bool:
    return principal.has_role(
        Role.receptionist, Role.finance, Role.supervisor, Role.ops, Role.specialist
    )


def scope(
    unit_path_column: Any, dossier_id_column: Any | None, principal: Principal
) -> ColumnElement[bool]:
    """Officers see their unit's subtree; an applicant only rows of their own dossiers, found
    through the index on ``dossiers.applicant_ref`` (``dossier_id_column`` is the row's dossier
    id, a column or a correlated subquery)."""
    clauses = []
    if is_officer(principal):
        clauses.append(unit_scope(unit_path_column, principal))
    if principal.has_role(Role.applicant) and dossier_id_column is not None:
        own = select(Dossier.id).where(Dossier.applicant_ref == principal.applicant_ref)
        clauses.append(dossier_id_column.in_(own))
    if not clauses:
        return false()
    return or_(*clauses) if len(clauses) > 1 else clauses[0]
