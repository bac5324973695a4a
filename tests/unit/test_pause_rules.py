"""Pauses in intake's rules: the lifecycle rows workflow's events take, who answers a
supplement, the national codes, the view of what is owed, and the slip of a request made
during processing. Pure: no database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from intake_service.domain.lifecycle import (
    WORKFLOW,
    Action,
    DossierStatus,
    NotAllowedInStatus,
    RoleNotAllowed,
    decide,
    may_answer_supplement,
)
from intake_service.domain.national_status import national_status
from intake_service.domain.pauses import (
    UNITEMISED_REASON,
    pause_record,
    supplement_items,
    view,
)
from intake_service.domain.payments_view import fold
from intake_service.domain.slips import (
    SlipKind,
    SupplementRequestSlip,
    build_slip,
    slip_document,
    supplement_note,
)
from shared.events import CasePaused, PaymentRequested
from shared.events.cases import SupplementItem
from shared.pdf import render_pdf
from tests.unit.test_slips import (
    HOAN_KIEM,
    LOOKUP,
    PROCEDURE,
    RECEIVED,
    Entry,
    dossier,
    pdf_text,
    request,
)

S = DossierStatus
APPLICANT = frozenset({"applicant"})
PAUSED_AT = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)


def paused(reason: str = "supplement", **extra: object) -> CasePaused:
    fields: dict[str, object] = {
        "case_id": uuid.uuid4(),
        "dossier_id": uuid.uuid4(),
        "dossier_code": "00070-260305-0001",
        "unit_path": "01.00070",
        "reason": reason,
        "detail": "Bổ sung trong 15 ngày làm việc",
        "paused_at": PAUSED_AT,
        **extra,
    }
    return CasePaused(**fields)  # type: ignore[arg-type]


def test_answering_a_supplement_returns_to_where_it_was_asked() -> None:
    before = decide(S.awaiting_supplement, Action.supplement, APPLICANT, received=False)
    during = decide(S.awaiting_supplement, Action.supplement, APPLICANT, received=True)
    assert (before, during) == (S.submitted, S.in_processing)


def test_only_workflows_events_pause_and_resume_a_dossier_in_processing() -> None:
    asked = decide(S.in_processing, Action.request_supplement, WORKFLOW, received=True)
    owed = decide(S.in_processing, Action.request_financial_obligation, WORKFLOW, received=True)
    assert (asked, owed) == (S.awaiting_supplement, S.awaiting_financial_obligation)
    for status in (S.awaiting_supplement, S.awaiting_financial_obligation):
        assert decide(status, Action.resume, WORKFLOW, received=True) == S.in_processing
    # A receptionist may ask for a supplement at reception, never push a processed dossier.
    desk = frozenset({"receptionist"})
    with pytest.raises(RoleNotAllowed):
        decide(S.in_processing, Action.request_supplement, desk, received=True)
    assert decide(S.submitted, Action.request_supplement, desk) == S.awaiting_supplement
    # Workflow's events never take a dossier still at reception.
    with pytest.raises(NotAllowedInStatus):
        decide(S.submitted, Action.request_financial_obligation, WORKFLOW)
    with pytest.raises(NotAllowedInStatus):
        decide(S.awaiting_supplement, Action.resume, WORKFLOW, received=False)


def test_a_supplement_is_not_an_answer_to_a_financial_obligation_or_to_nothing() -> None:
    for status in (S.awaiting_financial_obligation, S.in_processing, S.received):
        with pytest.raises(NotAllowedInStatus) as refused:
            decide(status, Action.supplement, APPLICANT, received=True)
        assert Action.supplement not in refused.value.allowed
    # A redelivered pause finds the dossier already waiting: nothing to do.
    with pytest.raises(NotAllowedInStatus):
        decide(S.awaiting_supplement, Action.request_supplement, WORKFLOW, received=True)
    assert (
        decide(S.awaiting_financial_obligation, Action.withdraw, APPLICANT, received=True)
        == S.withdrawn
    )


def test_who_answers_a_supplement() -> None:
    facts = {"applicant_id_number": "001090012345", "submitted_by": "lgsp-hanoi"}
    assert may_answer_supplement(APPLICANT, "001090012345", **facts, desk_covers_unit=False)
    assert not may_answer_supplement(APPLICANT, "001099999999", **facts, desk_covers_unit=False)
    represented = {**facts, "representative_id_number": "001090054321"}
    assert may_answer_supplement(APPLICANT, "001090054321", **represented, desk_covers_unit=False)
    assert not may_answer_supplement(APPLICANT, "001090054321", **facts, desk_covers_unit=False)
    desk = frozenset({"receptionist"})
    assert may_answer_supplement(desk, "cb.tiepnhan.00070", **facts, desk_covers_unit=True)
    assert not may_answer_supplement(desk, "cb.tiepnhan.00004", **facts, desk_covers_unit=False)
    lgsp = frozenset({"integration"})
    assert may_answer_supplement(lgsp, "lgsp-hanoi", **facts, desk_covers_unit=True)
    assert not may_answer_supplement(lgsp, "buu-dien-hanoi", **facts, desk_covers_unit=True)


def test_national_codes_of_the_pauses() -> None:
    supplement = national_status("awaiting_supplement")
    obligation = national_status("awaiting_financial_obligation")
    assert supplement and obligation
    assert (supplement.code, obligation.code) == (5, 6)
    assert obligation.name == "Yêu cầu thực hiện nghĩa vụ tài chính"


def test_a_request_without_items_lists_its_text_as_the_one_item() -> None:
    items = [SupplementItem(component="Sơ đồ thửa đất", reason="Thiếu xác nhận")]
    assert supplement_items(paused(items=items)) == [("Sơ đồ thửa đất", "Thiếu xác nhận")]
    bare = supplement_items(paused(detail="Bổ sung bản sao hợp đồng có công chứng"))
    assert bare == [("Bổ sung bản sao hợp đồng có công chứng", UNITEMISED_REASON)]


def _requested(requested_at: dt.datetime, amount: int) -> PaymentRequested:
    return PaymentRequested(
        request_id=uuid.uuid4(),
        dossier_id=uuid.uuid4(),
        dossier_code="00070-260305-0001",
        unit_path="01.00070",
        purpose="financial_obligation",
        agency_code="thue-01",
        amount_vnd=amount,
        lines=[],
        requested_at=requested_at,
    )


def test_the_obligation_shown_is_the_request_raised_for_this_pause() -> None:
    record = pause_record(paused("financial_obligation", amount_vnd=1_250_000))
    # Before payment's request arrives, the amount is known and where to pay is not.
    waiting = view(record, {})
    assert waiting and waiting.obligation
    assert (waiting.obligation.amount_vnd, waiting.obligation.request) == (1_250_000, None)
    earlier = _requested(PAUSED_AT - dt.timedelta(days=3), 500_000)
    this = _requested(PAUSED_AT, 1_250_000)
    payments = fold(fold({}, this), earlier)
    shown = view(record, payments)
    assert shown and shown.obligation and shown.obligation.request
    assert shown.obligation.request.request_id == str(this.request_id)
    assert shown.obligation.request.owed_vnd == 1_250_000
    assert view(None, payments) is None


def test_a_supplement_slip_of_a_request_during_processing_says_the_clock_is_paused() -> None:
    asked_at = RECEIVED + dt.timedelta(days=2)
    asked = [("Sơ đồ thửa đất", "Thiếu xác nhận của UBND phường")]
    slip = build_slip(
        SlipKind.supplement_request,
        dossier("awaiting_supplement", received=True),
        PROCEDURE,
        [
            Entry("receive", RECEIVED, "cb.tiepnhan.00070"),
            Entry(
                "request_supplement",
                asked_at,
                "cb.vpdkdd-01",
                supplement_note(asked, "Gấp"),
                request(asked, "Gấp"),
            ),
        ],
        HOAN_KIEM,
        LOOKUP,
    )
    assert isinstance(slip, SupplementRequestSlip)
    assert slip.during_processing and slip.officer == "cb.vpdkdd-01"
    assert [(i.component, i.reason) for i in slip.items] == [
        ("Sơ đồ thửa đất", "Thiếu xác nhận của UBND phường")
    ]
    text = pdf_text(render_pdf(slip_document(slip)))
    assert "trong quá trình giải quyết hồ sơ" in text and "tạm dừng" in text
    assert "Sơ đồ thửa đất: Thiếu xác nhận của UBND phường" in text
