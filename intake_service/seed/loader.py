"""Reference data loaded into an empty intake schema: units and the procedure catalogue."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from vietnam_provinces import Province, Ward

from intake_service.db.models import Procedure, Unit


def seed_procedures() -> list[dict[str, Any]]:
    text = resources.files("intake_service.seed").joinpath("procedures.json").read_text("utf-8")
    return json.loads(text)["procedures"]


def unit_rows() -> list[dict[str, Any]]:
    """The current two-tier structure (34 provinces, their communes and wards)."""
    rows: list[dict[str, Any]] = []
    for province in Province.iter_all():
        pcode = f"{province.code.value:02d}"
        rows.append(
            {
                "code": pcode,
                "name": province.name,
                "level": "province",
                "parent_code": None,
                "path": pcode,
            }
        )
    for ward in Ward.iter_all():
        pcode = f"{ward.province_code.value:02d}"
        wcode = f"{ward.code.value:05d}"
        rows.append(
            {
                "code": wcode,
                "name": ward.name,
                "level": "commune",
                "parent_code": pcode,
                "path": f"{pcode}.{wcode}",
            }
        )
    return rows


def procedure_row(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": p["key"],
        "code": p.get("code"),
        "name": p["name"],
        "field": p["field"],
        "level": p["level"],
        "online": p.get("online", "none"),
        "processing_working_days": float(p["processing"].get("working_days", 0)),
        "version": 1,
        "data": p,
    }


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    """Idempotent: loads only into empty tables."""
    loaded = {"units": 0, "procedures": 0}
    if not await session.scalar(select(func.count()).select_from(Unit)):
        rows = unit_rows()
        provinces = [r for r in rows if r["parent_code"] is None]
        await session.execute(pg_insert(Unit).on_conflict_do_nothing(), provinces)
        await session.execute(
            pg_insert(Unit).on_conflict_do_nothing(), [r for r in rows if r["parent_code"]]
        )
        loaded["units"] = len(rows)
    if not await session.scalar(select(func.count()).select_from(Procedure)):
        rows = [procedure_row(p) for p in seed_procedures()]
        await session.execute(pg_insert(Procedure).on_conflict_do_nothing(), rows)
        loaded["procedures"] = len(rows)
    return loaded
