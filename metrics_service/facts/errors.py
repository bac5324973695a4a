"""Problems the facts feature raises."""

from __future__ import annotations

from shared.errors import Problem


class FactNotFound(Problem):
    status = 404
    code = "not-found"
    title = "No such dossier fact"
    title_vi = "Không tìm thấy dữ kiện hồ sơ"
