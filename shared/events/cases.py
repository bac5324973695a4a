"""Events published by workflow on ``workflow.cases.v1``."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.events import topics
from shared.events.base import Event


class CaseOpened(Event):
    """Mở hồ sơ xử lý: workflow took a received dossier into processing."""

    event_type = "vn.motcua.case.opened.v1"
    topic = topics.CASES
    summary = "Workflow opened a case for a received dossier."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    opened_at: dt.datetime
    due_at: dt.datetime
