"""Which agency works a step: chosen from the kind of agency the route names and the unit the
dossier was received at, following the agency codes intake's reference data uses (a ward's own
desk and civil-status office, the province's land office, tax, police and social insurance)."""

from __future__ import annotations

WARD_AGENCY_PREFIXES = {"one_stop_desk": "motcua", "commune_justice": "tuphap"}
PROVINCE_AGENCY_PREFIXES = {
    "public_service_centre": "ttphcc",
    "land_registration_office": "vpdkdd",
    "tax_authority": "thue",
    "police": "congan",
    "social_insurance": "bhxh",
}


def agency_for(agency_kind: str, unit_path: str) -> str | None:
    """The agency code for ``agency_kind`` serving the unit at ``unit_path`` (province first).

    A dossier received at the province itself is worked by the province's bodies; a kind with
    no known agency (a specialist office the province has not registered) gives None, and the
    step is then found by role and unit alone.
    """
    codes = unit_path.split(".")
    province, ward = codes[0], codes[-1]
    if agency_kind in WARD_AGENCY_PREFIXES:
        if len(codes) == 1:
            return "ttphcc-" + province if agency_kind == "one_stop_desk" else None
        return f"{WARD_AGENCY_PREFIXES[agency_kind]}-{ward}"
    prefix = PROVINCE_AGENCY_PREFIXES.get(agency_kind)
    return f"{prefix}-{province}" if prefix else None
