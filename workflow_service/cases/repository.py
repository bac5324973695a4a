"""Every query of cases: scoping by who asks, reading, locking, finding, opening, logging.

Whose cases a principal may see at all: an applicant their own (by the pseudonym of their ID
number, never by a unit the token may also carry), an officer those of their unit's subtree.
Others do not exist for them (404)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from shared.auth import Principal, Role, unit_scope
from shared.pagination import Keyset
from workflow_service.db.bulk import RowsInsert
from workflow_service.db.models import Case, CaseAction, Step, table_of

# Roles that make a token an officer's (or a system's) rather than a citizen's.
_OFFICER_ROLES = tuple(r for r in Role if r is not Role.applicant)

CASE_ORDER = Keyset(columns=(Case.opened_at, Case.id))


def is_applicant_only(principal: Principal) -> bool:
    return Role.applicant in principal.roles and not principal.has_role(*_OFFICER_ROLES)


def case_scope(principal: Principal) -> ColumnElement[bool]:
    if is_applicant_only(principal):
        if not principal.applicant_ref:
            return false()
        return Case.applicant_ref == principal.applicant_ref
    return unit_scope(Case.unit_path, principal)


async def visible(session: AsyncSession, case_id: uuid.UUID, principal: Principal) -> Case | None:
    return await session.scalar(select(Case).where(Case.id == case_id, case_scope(principal)))


async def locked(session: AsyncSession, case_id: uuid.UUID, principal: Principal) -> Case | None:
    """The case the principal may see, locked for a change and read afresh."""
    return await session.scalar(
        select(Case)
        .where(Case.id == case_id, case_scope(principal))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def locked_by_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> Case | None:
    return await session.scalar(
        select(Case)
        .where(Case.dossier_id == dossier_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def step(session: AsyncSession, step_id: uuid.UUID | None) -> Step | None:
    """The step as stored now (read afresh, so a case just locked comes with its current step)."""
    return await session.get(Step, step_id, populate_existing=True) if step_id else None


async def steps_of(session: AsyncSession, case_id: uuid.UUID) -> list[Step]:
    rows = await session.scalars(select(Step).where(Step.case_id == case_id).order_by(Step.seq))
    return list(rows.all())


async def actions_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseAction]:
    rows = await session.scalars(
        select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.id)
    )
    return list(rows.all())


async def find(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_id: uuid.UUID | None,
    dossier_code: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Case], str | None]:
    query = select(Case).where(case_scope(principal))
    if dossier_id:
        query = query.where(Case.dossier_id == dossier_id)
    if dossier_code:
        query = query.where(Case.dossier_code == dossier_code)
    rows = list((await session.scalars(CASE_ORDER.apply(query, cursor, limit))).all())
    return CASE_ORDER.page(rows, limit, lambda c: (c.opened_at, c.id))


_CASES = table_of(Case)
# Core, not the unit of work: the rows are written as given (version included) and nothing is
# kept in the session.
_NEW_CASES = RowsInsert.of(_CASES, skip_conflicts_on=_CASES.c.dossier_id, returning=_CASES.c.id)
_CASE_ACTIONS = RowsInsert.of(table_of(CaseAction))


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert the cases of dossiers that have none yet, in one statement; the ids of those
    written. A dossier whose case is there already (a redelivered receipt), or being written
    by a concurrent transaction, is skipped by the unique dossier id, never opened twice."""
    return set(await _NEW_CASES.returned(session, rows))


async def log_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Append many entries to the cases' action log in one statement."""
    await _CASE_ACTIONS.execute(session, rows)


def touch(case: Case) -> None:
    """Make the next flush update the case's row, so its version moves even when only a step
    changed (a claim): every action on a case gives it a new ETag."""
    flag_modified(case, "status")


def log(session: AsyncSession, entry: CaseAction) -> None:
    session.add(entry)
