"""Intake (tiếp nhận): catalogue, units, dossiers, slips and the citizen-facing status view."""
