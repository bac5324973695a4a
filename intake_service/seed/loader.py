"""Reference data loaded into an empty intake schema: units and the procedure catalogue."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from vietnam_provinces import Province, Ward

from intake_service.db.models import Agency, Procedure, ProcedureVersion, Unit


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


# Bodies every province has, taking part in inter-agency chains (liên thông).
PROVINCIAL_AGENCIES = (
    ("ttphcc", "public_service_centre", "Trung tâm Phục vụ hành chính công"),
    ("vpdkdd", "land_registration_office", "Văn phòng Đăng ký đất đai"),
    ("thue", "tax_authority", "Thuế"),
    ("congan", "police", "Công an"),
    ("bhxh", "social_insurance", "Bảo hiểm xã hội"),
)


def agency_rows(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for unit in units:
        if unit["level"] == "province":
            for prefix, kind, name in PROVINCIAL_AGENCIES:
                rows.append(
                    {
                        "code": f"{prefix}-{unit['code']}",
                        "name": f"{name} {unit['name']}",
                        "kind": kind,
                        "unit_code": unit["code"],
                    }
                )
        else:
            rows.append(
                {
                    "code": f"motcua-{unit['code']}",
                    "name": f"Bộ phận Một cửa {unit['name']}",
                    "kind": "one_stop_desk",
                    "unit_code": unit["code"],
                }
            )
            rows.append(
                {
                    "code": f"tuphap-{unit['code']}",
                    "name": f"Tư pháp - Hộ tịch {unit['name']}",
                    "kind": "commune_justice",
                    "unit_code": unit["code"],
                }
            )
            # The ward's specialist office (phòng chuyên môn), which examines and decides the
            # procedures that have no inter-agency route of their own.
            rows.append(
                {
                    "code": f"chuyenmon-{unit['code']}",
                    "name": f"Phòng chuyên môn {unit['name']}",
                    "kind": "specialist_office",
                    "unit_code": unit["code"],
                }
            )
    return rows


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    """Idempotent: loads units and procedures only into empty tables, and adds the seeded
    agencies that are missing."""
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
