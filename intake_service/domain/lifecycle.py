"""Dossier statuses. Later work adds the full transition table; the skeleton receives at once."""

from __future__ import annotations

from enum import StrEnum


class DossierStatus(StrEnum):
    submitted = "submitted"
    received = "received"
    in_processing = "in_processing"
    resolved = "resolved"
    returned = "returned"


STATUS_LABELS_VI = {
    DossierStatus.submitted: "Đã nộp, chờ kiểm tra",
    DossierStatus.received: "Đã tiếp nhận",
    DossierStatus.in_processing: "Đang xử lý",
    DossierStatus.resolved: "Đã có kết quả",
    DossierStatus.returned: "Đã trả kết quả",
}
