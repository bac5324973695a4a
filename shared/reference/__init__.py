"""Reference data every service starts from, as a contract none of them owns alone: the seed
catalogue of procedures (with their routes), the unit tree and the agencies each unit has.

Intake loads it into its tables and publishes it; workflow reads the seed routes from here, not
from intake's package, so no service imports another."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from vietnam_provinces import Province, Ward

from shared.vocabulary import AGENCY_KIND_LABELS_VI, AgencyKind


@cache
def _procedures_text() -> str:
    return resources.files("shared.reference").joinpath("procedures.json").read_text("utf-8")


def seed_procedures() -> list[dict[str, Any]]:
    """The seed catalogue, a fresh copy each call (callers may change it)."""
    return json.loads(_procedures_text())["procedures"]


def unit_rows() -> list[dict[str, Any]]:
    """The current two-tier structure (34 provinces, their communes and wards), each with its
    materialised path ``<province>.<ward>`` that unit-subtree scoping compares by prefix."""
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


# (code prefix, kind) of the bodies every province has, taking part in inter-agency chains.
PROVINCIAL_AGENCIES: tuple[tuple[str, AgencyKind], ...] = (
    ("ttphcc", AgencyKind.public_service_centre),
    ("vpdkdd", AgencyKind.land_registration_office),
    ("thue", AgencyKind.tax_authority),
    ("congan", AgencyKind.police),
    ("bhxh", AgencyKind.social_insurance),
)
# Those of every commune or ward: its one-stop desk, its justice officer, and its specialist
# office (phòng chuyên môn), which examines and decides the procedures without a route.
COMMUNE_AGENCIES: tuple[tuple[str, AgencyKind], ...] = (
    ("motcua", AgencyKind.one_stop_desk),
    ("tuphap", AgencyKind.commune_justice),
    ("chuyenmon", AgencyKind.specialist_office),
)


def agency_code(prefix: str, unit_code: str) -> str:
    return f"{prefix}-{unit_code}"


def agency_rows(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The seeded agencies of ``units``, named by their kind's one label and the unit's name."""
    rows: list[dict[str, Any]] = []
    for unit in units:
        kinds = PROVINCIAL_AGENCIES if unit["level"] == "province" else COMMUNE_AGENCIES
        for prefix, kind in kinds:
            rows.append(
                {
                    "code": agency_code(prefix, unit["code"]),
                    "name": f"{AGENCY_KIND_LABELS_VI[kind]} {unit['name']}",
                    "kind": kind.value,
                    "unit_code": unit["code"],
                }
            )
    return rows
