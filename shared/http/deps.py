"""The request dependencies every router takes, named once: the request's session (committed by
:class:`shared.http.commit.CommitRoute`), the authenticated caller, the running service, and the
paging parameters of the one list contract."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, current_principal, require_roles
from shared.runtime import Runtime, db_session, runtime_of

Session = Annotated[AsyncSession, Depends(db_session)]
Caller = Annotated[Principal, Depends(current_principal)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Cursor = Annotated[
    str | None, Query(max_length=400, description="con trỏ trang sau (next_cursor của trang trước)")
]
Limit = Annotated[int, Query(ge=1, le=200, description="số mục mỗi trang")]
# Routes only ops may call: refused (403) before the body is read, so a caller without the role
# learns nothing of what the route would accept. Services check the role again.
Ops = Annotated[Principal, Depends(require_roles(Role.ops))]
