"""Which agency works a step: the agency of the kind the route names serving the unit the
dossier was received at — a ward's own desk, civil-status and specialist offices, the
province's service centre, land office, tax, police and social insurance. This module says
which unit that is; the agencies table says which agency of that kind the unit has."""

from __future__ import annotations

from shared.vocabulary import AgencyKind

# Kinds a commune or ward has its own agency of.
WARD_KINDS = frozenset(
    {AgencyKind.one_stop_desk, AgencyKind.commune_justice, AgencyKind.specialist_office}
)
# A dossier received at the province itself has no ward: what a ward's offices do for a ward,
# the province's public service centre does for the province.
PROVINCE_LEVEL_KIND = AgencyKind.public_service_centre


def serving(agency_kind: str, unit_path: str) -> tuple[str, str]:
    """The (unit code, agency kind) whose agency works a step of ``agency_kind`` for the unit at
    ``unit_path`` (province first)."""
    codes = unit_path.split(".")
    province, ward = codes[0], codes[-1]
    if agency_kind in WARD_KINDS:
        if len(codes) == 1:
            return province, PROVINCE_LEVEL_KIND.value
        return ward, agency_kind
    return province, agency_kind
