"""Who may apply: a citizen by 12-digit personal ID (CCCD) or an organisation by tax code, in
person or through an authorised representative."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from shared.auth import Principal, Role

_PERSONAL_ID = re.compile(r"^\d{12}$")
_TAX_CODE = re.compile(r"^(\d{10})(-\d{3})?$")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def is_valid_personal_id(value: str) -> bool:
    return bool(_PERSONAL_ID.match(value))


def is_valid_tax_code(value: str) -> bool:
    """Mã số thuế: 10 digits (a branch adds ``-NNN``); the 10th is a weighted check digit."""
    match = _TAX_CODE.match(value)
    if not match:
        return False
    digits = [int(c) for c in match.group(1)]
    check = 10 - sum(w * d for w, d in zip(_TAX_WEIGHTS, digits, strict=False)) % 11
    return check == digits[9]


@dataclass(frozen=True)
class RepresentationIssue:
    """Why a submission's authorised-representative fields do not hold, and where."""

    field: str
    message: str
    message_vi: str


def representation_issue(
    *,
    files_as_citizen: bool,
    subject: str,
    applicant_id: str,
    representative_id: str | None,
    authorised_on: dt.date | None,
    today: dt.date,
) -> RepresentationIssue | None:
    """The rule for who files for whom (Decree 61/2018, art. 9: a dossier may be filed by the
    applicant or by a person they authorise).

    A citizen signed in online is identified by the verified subject of their token. They file
    for themself, or for another person only as that person's authorised representative
    (người được ủy quyền), and then the representative is themself: the fields name the signed-in
    person and the authorisation. Without them, filing under another's ID number would let anyone
    open dossiers in a stranger's name and read them afterwards. A desk officer may record any
    representative who comes to the counter; only the fields' own consistency is checked then.
    """
    if representative_id is not None and representative_id == applicant_id:
        return RepresentationIssue(
            "body.representative.id_number",
            "the representative must be another person than the applicant",
            "người được ủy quyền phải là người khác với người nộp hồ sơ",
        )
    if authorised_on is not None and authorised_on > today:
        return RepresentationIssue(
            "body.representative.authorisation_date",
            "the authorisation cannot be dated after today",
            "ngày của văn bản ủy quyền không được sau ngày hôm nay",
        )
    if not files_as_citizen:
        return None
    if representative_id is None:
        if applicant_id == subject:
            return None
        return RepresentationIssue(
            "body.representative",
            "filing under another person's ID number requires the authorised representative's "
            "details (name, ID number, relationship, authorisation document)",
            "nộp hồ sơ cho người khác phải kê khai thông tin người được ủy quyền (họ tên, số "
            "định danh, quan hệ, văn bản ủy quyền)",
        )
    if representative_id != subject:
        return RepresentationIssue(
            "body.representative.id_number",
            "online, the representative is the person signed in",
            "khi nộp trực tuyến, người được ủy quyền phải là người đang đăng nhập",
        )
    return None


def is_own_dossier(
    principal: Principal, applicant_id_number: str, representative_id_number: str | None
) -> bool:
    """The dossier is the applicant's own: filed in their name, or by them as the authorised
    representative of the person named (the same rule as ``repository.own_dossiers``)."""
    return principal.has_role(Role.applicant) and principal.sub in (
        applicant_id_number,
        representative_id_number,
    )
