"""The mapping of our dossier statuses to the national portal's (DVCQG) status codes."""

from __future__ import annotations

from intake_service.domain.lifecycle import TRANSITIONS, DossierStatus
from intake_service.domain.national_status import (
    NATIONAL_STATUSES,
    STATUS_TO_NATIONAL,
    national_status,
)


def test_every_status_has_a_national_code() -> None:
    missing = [s for s in DossierStatus if s not in STATUS_TO_NATIONAL]
    assert missing == []


def test_every_mapped_code_is_a_national_code() -> None:
    assert set(STATUS_TO_NATIONAL.values()) <= set(NATIONAL_STATUSES)


def test_national_codes_are_the_portals_ten() -> None:
    assert sorted(NATIONAL_STATUSES) == list(range(1, 11))
    assert NATIONAL_STATUSES[7].name == "Công dân yêu cầu rút hồ sơ"


def test_every_lifecycle_target_reaches_a_national_status() -> None:
    for transition in TRANSITIONS:
        assert national_status(transition.target) is not None, transition


def test_reception_outcomes_have_distinct_codes() -> None:
    received = national_status("received")
    refused = national_status("refused")
    asked = national_status("awaiting_supplement")
    assert received and refused and asked
    assert (received.code, refused.code, asked.code) == (2, 3, 5)
    assert national_status("returned") == NATIONAL_STATUSES[10]


def test_an_unknown_status_has_no_national_code() -> None:
    assert national_status("archived") is None
