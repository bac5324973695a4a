"""Which agency works a step: chosen from the kind of agency the route names and the unit the
dossier was received at, following the agency codes intake's reference data seeds (a ward's own
desk, civil-status and specialist offices, the province's service centre, land office, tax,
police and social insurance)."""

from __future__ import annotations

WARD_AGENCY_PREFIXES = {
    "one_stop_desk": "motcua",
    "commune_justice": "tuphap",
    "specialist_office": "chuyenmon",
}
PROVINCE_AGENCY_PREFIXES = {
    "public_service_centre": "ttphcc",
    "land_registration_office": "vpdkdd",
    "tax_authority": "thue",
    "police": "congan",
    "social_insurance": "bhxh",
}
# A dossier received at the province itself has no ward: what a ward's offices do for a ward,
# the province's public service centre does for the province.
PROVINCE_LEVEL_KIND = "public_service_centre"


def agency_for(agency_kind: str, unit_path: str) -> str | None:
    """The agency code for ``agency_kind`` serving the unit at ``unit_path`` (province first),
    or None for a kind no agency is seeded for (routes naming one are refused on publication)."""
    codes = unit_path.split(".")
    province, ward = codes[0], codes[-1]
    if agency_kind in WARD_AGENCY_PREFIXES:
        if len(codes) == 1:
            return f"{PROVINCE_AGENCY_PREFIXES[PROVINCE_LEVEL_KIND]}-{province}"
        return f"{WARD_AGENCY_PREFIXES[agency_kind]}-{ward}"
    prefix = PROVINCE_AGENCY_PREFIXES.get(agency_kind)
    return f"{prefix}-{province}" if prefix else None
