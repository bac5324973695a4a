"""Every query of the catalogue: procedures and their versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, Procedure, ProcedureVersion
from intake_service.domain.procedure_rules import ProcedureRules
from shared.pagination import Keyset

# Procedures are listed by their key, which is unique: the key alone names a row.
PROCEDURE_ORDER = Keyset(columns=(Procedure.key,))


def procedure_row(entry: dict[str, Any]) -> dict[str, Any]:
    """The columns of ``procedures`` for a catalogue entry; ``data`` keeps the whole entry."""
    return {
        "key": entry["key"],
        "code": entry.get("code"),
        "name": entry["name"],
        "field": entry["field"],
        "level": entry["level"],
        "online": entry.get("online", "none"),
        "processing_working_days": float(ProcedureRules.of(entry).processing.working_days),
        "version": 1,
        "data": entry,
    }


async def get(session: AsyncSession, key: str, *, for_update: bool = False) -> Procedure | None:
    query = select(Procedure).where(Procedure.key == key)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_version(session: AsyncSession, key: str, version: int) -> ProcedureVersion | None:
    return await session.get(ProcedureVersion, (key, version))


async def page(
    session: AsyncSession,
    *,
    field: str | None,
    include_retired: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[Procedure], str | None]:
    query = select(Procedure)
    if not include_retired:
        query = query.where(Procedure.retired_at.is_(None))
    if field:
        query = query.where(Procedure.field == field)
    rows = list((await session.scalars(PROCEDURE_ORDER.apply(query, cursor, limit))).all())
    return PROCEDURE_ORDER.page(rows, limit, lambda p: (p.key,))


def add(session: AsyncSession, row: dict[str, Any]) -> Procedure:
    procedure = Procedure(**row)
    session.add(procedure)
    return procedure


def add_version(
    session: AsyncSession,
    key: str,
    version: int,
    data: dict[str, Any],
    created_by: str | None,
    created_at: dt.datetime,
) -> ProcedureVersion:
    row = ProcedureVersion(
        key=key, version=version, data=data, created_by=created_by, created_at=created_at
    )
    session.add(row)
    return row


async def procedure_as_received(session: AsyncSession, dossier: Dossier) -> Procedure:
    """The procedure's rules in the version the dossier was submitted under, not today's: a
    later change of the catalogue must not move its deadline or its fee. Not added to the session."""
    version = await session.get(
        ProcedureVersion, (dossier.procedure_key, dossier.procedure_version)
    )
    if version is None:
        current = await session.get(Procedure, dossier.procedure_key)
        assert current is not None
        return current
    return Procedure(**{**procedure_row(version.data), "version": version.version})


async def procedures_by_key(session: AsyncSession, keys: set[str]) -> dict[str, Procedure]:
    if not keys:
        return {}
    rows = await session.scalars(select(Procedure).where(Procedure.key.in_(keys)))
    return {p.key: p for p in rows}
