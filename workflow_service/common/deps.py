"""The request dependencies every workflow router shares: session, caller, the event outbox,
the calendar, the agencies' signing keys, settings, list paging, ``If-Match``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Query, Request

from shared.http.deps import Caller as Caller
from shared.http.deps import Session as Session
from shared.messaging.outbox import Outbox
from shared.runtime import Runtime, runtime_of
from workflow_service.settings import WorkflowSettings

if TYPE_CHECKING:
    from workflow_service.calendar.service import CalendarBook
    from workflow_service.results.keys import SigningKeys

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=300)]
IfMatch = Annotated[str | None, Header(max_length=40)]


def settings_of(request: Request) -> WorkflowSettings:
    settings: WorkflowSettings = request.app.state.settings
    return settings


def outbox_of(runtime: Annotated[Runtime, Depends(runtime_of)]) -> Outbox:
    return runtime.outbox


def calendar_book_of(request: Request) -> CalendarBook:
    book: CalendarBook = request.app.state.calendar_book
    return book


def signing_keys_of(request: Request) -> SigningKeys:
    keys: SigningKeys = request.app.state.signing_keys
    return keys


Settings = Annotated[WorkflowSettings, Depends(settings_of)]
Events = Annotated[Outbox, Depends(outbox_of)]
Book = Annotated["CalendarBook", Depends(calendar_book_of)]
Keys = Annotated["SigningKeys", Depends(signing_keys_of)]
