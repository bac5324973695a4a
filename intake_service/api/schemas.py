"""Bodies of the catalogue routes that still live here (units and procedures)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

# The payment view's wording, which the lookup's bodies share.
from intake_service.dossiers.schemas import (  # noqa: F401
    PURPOSE_DESCRIPTION,
    RECEIPT_NUMBER_DESCRIPTION,
    REQUEST_STATUS_DESCRIPTION,
    PaymentPurpose,
    PaymentRequestStatus,
)


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None
    path: str
    retired_at: dt.datetime | None = None


class ProcedureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    code: str | None
    name: str
    field: str
    level: str
    online: str
    processing_working_days: float
    version: int
    retired_at: dt.datetime | None = Field(None, description="ngừng áp dụng từ")
