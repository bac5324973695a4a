"""What the route templates feature answers when it cannot."""

from __future__ import annotations

from shared.errors import Problem


class RouteNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such route"
    title_vi = "Không tìm thấy quy trình"
