"""Queries of intake's catalogue rows that features besides the dossier share. The dossier's
own queries (scoping, history, the procedure a dossier was received under) are the dossier
feature's, ``intake_service.dossiers.repository``; the names below are that module's, for the
features that read dossiers through this one."""

from __future__ import annotations

from intake_service.dossiers.repository import (
    active_unit,
    dossier_by_code,
    history,
    own_dossiers,
    procedure_as_received,
    procedures_by_key,
    visible_to,
)

__all__ = [
    "active_unit",
    "dossier_by_code",
    "history",
    "own_dossiers",
    "procedure_as_received",
    "procedures_by_key",
    "visible_to",
]
