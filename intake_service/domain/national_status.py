"""Our dossier statuses as the national public-service portal (Cổng Dịch vụ công quốc gia, DVCQG)
knows them, for the change feed that LGSP/NGSP clients relay to it.

The national codes are the portal's dossier-status synchronisation codes. The mapping is data:
one row per status of :class:`DossierStatus`, checked complete by a unit test, so a new status
cannot reach the feed without a national code.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake_service.domain.lifecycle import DossierStatus


@dataclass(frozen=True)
class NationalStatus:
    code: int
    name: str


NATIONAL_STATUSES: dict[int, NationalStatus] = {
    s.code: s
    for s in (
        NationalStatus(1, "Mới đăng ký"),
        NationalStatus(2, "Được tiếp nhận"),
        NationalStatus(3, "Không được tiếp nhận"),
        NationalStatus(4, "Đang xử lý"),
        NationalStatus(5, "Yêu cầu bổ sung giấy tờ"),
        NationalStatus(6, "Yêu cầu thực hiện nghĩa vụ tài chính"),
        NationalStatus(7, "Công dân yêu cầu rút hồ sơ"),
        NationalStatus(8, "Dừng xử lý"),
        NationalStatus(9, "Đã xử lý xong"),
        NationalStatus(10, "Đã trả kết quả"),
    )
}

# A supplemented dossier goes back to "submitted": for the portal it is registered anew and
# awaits the desk's check. A dossier rejected after examination is "resolved" with a reason slip,
# which the portal also counts as processed (9). Codes 6 and 8 have no status of ours yet: a
# financial obligation and a stop are handled inside workflow while the dossier is in processing.
STATUS_TO_NATIONAL: dict[DossierStatus, int] = {
    DossierStatus.submitted: 1,
    DossierStatus.received: 2,
    DossierStatus.refused: 3,
    DossierStatus.in_processing: 4,
    DossierStatus.awaiting_supplement: 5,
    DossierStatus.withdrawn: 7,
    DossierStatus.resolved: 9,
    DossierStatus.returned: 10,
}


def national_status(status: str) -> NationalStatus | None:
    """The portal's status for one of ours; None for a status this code does not know."""
    try:
        return NATIONAL_STATUSES[STATUS_TO_NATIONAL[DossierStatus(status)]]
    except (ValueError, KeyError):
        return None
