"""Reference data loaded into an empty intake schema: units and the procedure catalogue."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.catalogue.repository import procedure_row
from intake_service.db.models import Agency, Procedure, ProcedureVersion, Unit
from shared.reference import agency_rows, seed_procedures, unit_rows


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    """Idempotent: loads units and procedures only into empty tables, and adds the seeded
    agencies that are missing. Seeded agencies are not published as ``AgencyChanged``:
    workflow seeds the same list from ``shared.reference``."""
    loaded = {"units": 0, "agencies": 0, "procedures": 0}
    if not await session.scalar(select(func.count()).select_from(Unit)):
        rows = unit_rows()
        provinces = [r for r in rows if r["parent_code"] is None]
        await session.execute(pg_insert(Unit).on_conflict_do_nothing(), provinces)
        await session.execute(
            pg_insert(Unit).on_conflict_do_nothing(), [r for r in rows if r["parent_code"]]
        )
        loaded["units"] = len(rows)
    # Agencies the seed gained later (each ward's specialist office) reach databases seeded
    # before; a retired agency stays retired, since agencies are never deleted.
    agencies = agency_rows(unit_rows())
    added = await session.scalars(
        pg_insert(Agency).on_conflict_do_nothing().returning(Agency.code), agencies
    )
    loaded["agencies"] = len(added.all())
    if not await session.scalar(select(func.count()).select_from(Procedure)):
        rows = [procedure_row(p) for p in seed_procedures()]
        await session.execute(pg_insert(Procedure).on_conflict_do_nothing(), rows)
        await session.execute(
            pg_insert(ProcedureVersion).on_conflict_do_nothing(),
            [
                {"key": r["key"], "version": 1, "data": r["data"], "created_by": "seed"}
                for r in rows
            ],
        )
        loaded["procedures"] = len(rows)
    return loaded
