"""Who files for whom, and who withdraws what: the pure rules behind submission and withdrawal."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.domain.applicant import representation_issue
from intake_service.domain.reception import may_withdraw
from shared.auth import Principal

TODAY = dt.date(2026, 3, 5)
ME, OTHER, THIRD = "001090012345", "001090054321", "001090099999"


def issue(
    *,
    citizen: bool = True,
    applicant: str = ME,
    representative: str | None = None,
    on: dt.date | None = None,
) -> str | None:
    found = representation_issue(
        files_as_citizen=citizen,
        subject=ME,
        applicant_id=applicant,
        representative_id=representative,
        authorised_on=on,
        today=TODAY,
    )
    return found.field if found else None


def test_a_citizen_files_for_themself_without_a_representative() -> None:
    assert issue() is None


def test_filing_under_another_id_needs_the_signed_in_person_as_representative() -> None:
    assert issue(applicant=OTHER) == "body.representative"
    assert issue(applicant=OTHER, representative=THIRD) == "body.representative.id_number"
    assert issue(applicant=OTHER, representative=ME) is None


def test_nobody_represents_themself_and_authorisations_are_not_from_the_future() -> None:
    assert issue(representative=ME) == "body.representative.id_number"
    assert issue(citizen=False, applicant=OTHER, representative=OTHER) is not None
    late = TODAY + dt.timedelta(days=1)
    assert issue(applicant=OTHER, representative=ME, on=late) == (
        "body.representative.authorisation_date"
    )
    assert issue(applicant=OTHER, representative=ME, on=TODAY) is None


def test_the_desk_records_whoever_comes_as_representative() -> None:
    assert issue(citizen=False, applicant=OTHER) is None
    assert issue(citizen=False, applicant=OTHER, representative=THIRD) is None


def test_the_issues_carry_english_and_vietnamese_text_without_the_numbers() -> None:
    found = representation_issue(
        files_as_citizen=True,
        subject=ME,
        applicant_id=OTHER,
        representative_id=THIRD,
        authorised_on=None,
        today=TODAY,
    )
    assert found is not None and found.message and found.message_vi
    assert THIRD not in found.message + found.message_vi and ME not in found.message


@pytest.mark.parametrize(
    ("roles", "submitted_by", "allowed"),
    [
        ({"integration"}, "lgsp-hanoi", True),
        ({"integration"}, "cb.tiepnhan.00070", False),
        ({"integration"}, "buudien-hanoi", False),
        ({"receptionist"}, "lgsp-hanoi", True),
        ({"applicant"}, "lgsp-hanoi", True),
        ({"specialist"}, "lgsp-hanoi", False),
    ],
)
def test_an_integration_client_withdraws_only_what_it_submitted(
    roles: set[str], submitted_by: str, allowed: bool
) -> None:
    principal = Principal(sub="lgsp-hanoi", roles=frozenset(roles))
    assert may_withdraw(principal, submitted_by) is allowed
