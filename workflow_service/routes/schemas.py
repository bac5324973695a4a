"""Route templates as the API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class RouteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    procedure_key: str
    version: int
    steps: list[dict[str, Any]]
    created_by: str | None
    created_at: dt.datetime | None = None
