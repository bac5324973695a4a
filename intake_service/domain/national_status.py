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

# A dossier supplemented before reception goes back to "submitted": for the portal it is
# registered anew and awaits the desk's check; one supplemented during processing goes back to
# "in processing" (4). Awaiting a supplement is 5 in both phases, the portal's "yêu cầu bổ sung
# giấy tờ"; awaiting a financial obligation (the land chain's taxes and registration fee) is 6.
# A dossier rejected after examination is "resolved" with a reason slip, which the portal also
# counts as processed (9). Code 8 (dừng xử lý: processing stopped for good, without a result)
# has no status of ours: a pause is not a stop, the applicant's answer resumes it, and a case
# that ends without result ends as withdrawn (7) or rejected (9).
STATUS_TO_NATIONAL: dict[DossierStatus, int] = {
    DossierStatus.submitted: 1,
    DossierStatus.received: 2,
    DossierStatus.refused: 3,
    DossierStatus.in_processing: 4,
    DossierStatus.awaiting_supplement: 5,
    DossierStatus.awaiting_financial_obligation: 6,
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
