"""The request dependencies every payment router shares: session, caller, settings, the
Idempotency-Key header, list paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from payment_service.settings import PaymentSettings
from shared.http.deps import Caller as Caller
from shared.http.deps import Session as Session

IdempotencyKey = Annotated[str | None, Header(max_length=200, description="khóa chống gửi trùng")]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=200)]


def settings_of(request: Request) -> PaymentSettings:
    return request.app.state.settings


Settings = Annotated[PaymentSettings, Depends(settings_of)]
