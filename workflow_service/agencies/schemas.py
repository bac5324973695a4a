"""Agency memberships as the API shows them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from shared.pagination import Page


class MemberOut(BaseModel):
    """Một cán bộ thuộc một cơ quan."""

    model_config = ConfigDict(from_attributes=True)

    agency_code: str
    officer_sub: str
    added_at: dt.datetime
    added_by: str


class MemberPage(Page[MemberOut]):
    """Một trang cán bộ của cơ quan, theo tên đăng nhập."""
