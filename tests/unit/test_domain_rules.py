"""Rules that need no database or broker."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake_service.domain.applicant import is_valid_personal_id, is_valid_tax_code
from intake_service.domain.dossier_codes import dossier_code
from intake_service.domain.fees import fee_amount
from intake_service.domain.procedure_rules import ProcedureRules
from metrics_service.domain.counting import received_increments
from metrics_service.domain.ratios import Ratio
from shared.calendar import VN_TZ, WorkingCalendar
from shared.events import DossierReceived, MalformedEvent, decode, wrap
from shared.events.envelope import ce_headers, encode_data
from shared.vocabulary import Channel


@pytest.mark.parametrize(
    ("code", "valid"),
    [("0100109106", True), ("0100109107", False), ("0100109106-001", True), ("010010910", False)],
)
def test_tax_code_check_digit(code: str, valid: bool) -> None:
    assert is_valid_tax_code(code) is valid


def test_personal_id_is_twelve_digits() -> None:
    assert is_valid_personal_id("001090012345")
    assert not is_valid_personal_id("00109001234")
    assert not is_valid_personal_id("00109001234a")


def test_dossier_code_is_unit_date_and_an_unguessable_tail() -> None:
    code = dossier_code("00070", dt.date(2026, 11, 22), 42)
    assert code.startswith("00070-261122-") and len(code) == len("00070-261122-K7QD-M2X9")
    assert code != dossier_code("00070", dt.date(2026, 11, 22), 42)  # fresh randomness


def test_online_fee_applies_only_online() -> None:
    rules = ProcedureRules.of({"fees": [{"amount_vnd": 20000, "online_amount_vnd": 10000}]})
    assert fee_amount(rules, Channel.online) == 10000 == rules.fee_amount(Channel.online)
    assert fee_amount(rules, Channel.direct) == 20000
    assert fee_amount(ProcedureRules.of({"fees": [{"amount_vnd": 0}]}), Channel.online) == 0


def test_working_days_skip_weekend_and_holidays() -> None:
    cal = WorkingCalendar.of(holidays=[dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    friday_morning = dt.datetime(2026, 8, 28, 9, 0, tzinfo=VN_TZ)
    due = cal.add_working_days(friday_morning, 2)
    # Mon 31/8 is the first working day, Tue 1/9 and Wed 2/9 are National Day, Thu 3/9 the second.
    assert due.date() == dt.date(2026, 9, 3)


def test_receipt_after_office_hours_counts_from_next_working_day() -> None:
    cal = WorkingCalendar()
    late = dt.datetime(2026, 11, 20, 16, 30, tzinfo=VN_TZ)  # Friday 16:30, cut-off 17:00
    after = dt.datetime(2026, 11, 20, 17, 30, tzinfo=VN_TZ)
    assert cal.add_working_days(late, 1).date() == dt.date(2026, 11, 23)
    assert cal.add_working_days(after, 1).date() == dt.date(2026, 11, 24)


@given(
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    st.integers(0, 60),
)
def test_deadline_is_a_working_day_and_monotonic(start: dt.datetime, days: int) -> None:
    cal = WorkingCalendar()
    start = start.replace(tzinfo=VN_TZ)
    due = cal.add_working_days(start, days)
    assert cal.is_working_day(due.date())
    assert due >= start
    assert cal.add_working_days(start, days + 1) > due


def test_received_dossier_counts_once_per_ancestor_procedure_and_channel() -> None:
    keys = received_increments(
        "01.00070", dt.datetime(2026, 11, 22, 3, tzinfo=dt.UTC), "1.004222", "online"
    )
    assert len(keys) == len(set(keys)) == 2 * 2 * 2
    assert {k.unit_code for k in keys} == {"01", "00070"}
    assert {k.period for k in keys} == {"2026-11"}


def test_period_follows_vietnam_time() -> None:
    # 31 Oct 18:00 UTC is 1 Nov 01:00 in Hà Nội.
    keys = received_increments("01", dt.datetime(2026, 10, 31, 18, tzinfo=dt.UTC), "x", "direct")
    assert {k.period for k in keys} == {"2026-11"}


def test_ratio_divides_when_read() -> None:
    assert Ratio.of(3385, 3478).value == pytest.approx(0.973260, abs=1e-6)
    assert Ratio.of(0, 0).value is None


def _received() -> DossierReceived:
    now = dt.datetime.now(dt.UTC)
    return DossierReceived(
        dossier_id=uuid.uuid4(),
        dossier_code="00070-261122-0001",
        procedure_code="1.004222",
        procedure_name="Đăng ký thường trú",
        unit_code="00070",
        unit_path="01.00070",
        channel="direct",
        received_at=now,
        appointment_at=now,
        processing_working_days=7,
        fee_amount_vnd=20000,
        applicant_name="Nguyễn Văn An",
    )


def test_cloudevent_round_trip_keeps_id_type_and_data() -> None:
    env = wrap(_received(), source="/motcua/intake", subject="00070-261122-0001")
    headers = [(k, v.encode()) for k, v in ce_headers(env).items()]
    back = decode(env.key.encode(), encode_data(env.data), headers, env.topic)
    assert (back.id, back.type, back.subject, back.data) == (
        env.id,
        env.type,
        env.subject,
        env.data,
    )
    assert back.key == str(env.data.dossier_id)


@pytest.mark.parametrize(
    ("value", "headers"),
    [
        (b"{}", [("ce_type", b"vn.motcua.dossier.received.v1")]),
        (
            b"not json",
            [
                ("ce_id", b"1"),
                ("ce_type", b"vn.motcua.dossier.received.v1"),
                ("ce_source", b"/t"),
                ("ce_specversion", b"1.0"),
            ],
        ),
        (
            b"{}",
            [
                ("ce_id", b"1"),
                ("ce_type", b"vn.motcua.dossier.received.v1"),
                ("ce_source", b"/t"),
                ("ce_specversion", b"0.3"),
            ],
        ),
    ],
)
def test_malformed_records_are_recognised(value: bytes, headers: list[tuple[str, bytes]]) -> None:
    with pytest.raises(MalformedEvent):
        decode(b"k", value, headers, "intake.dossiers.v1")


def test_same_day_procedures_received_after_the_cutoff_are_due_the_next_working_day() -> None:
    rules = ProcedureRules.of(
        {"processing": {"working_days": 0, "same_day": True, "same_day_cutoff": "15:00"}}
    ).processing
    assert rules.cutoff == dt.time(15, 0)
    assert ProcedureRules.of({"processing": {"working_days": 3}}).processing.cutoff is None
    calendar = WorkingCalendar()
    friday = dt.date(2026, 11, 27)
    before = dt.datetime.combine(friday, dt.time(14, 59), tzinfo=VN_TZ)
    after = dt.datetime.combine(friday, dt.time(15, 1), tzinfo=VN_TZ)
    assert rules.due(calendar, before) == dt.datetime(2026, 11, 27, 17, tzinfo=VN_TZ)
    assert rules.due(calendar, after) == dt.datetime(2026, 11, 30, 17, tzinfo=VN_TZ)


def test_a_procedure_timed_in_working_hours_is_due_in_office_hours() -> None:
    rules = ProcedureRules.of({"processing": {"working_days": 0, "working_hours": 4}}).processing
    calendar = WorkingCalendar()
    friday_afternoon = dt.datetime(2026, 11, 27, 15, tzinfo=VN_TZ)
    # 15:00–17:00 on Friday, then 07:30–09:30 on Monday.
    assert rules.due(calendar, friday_afternoon) == dt.datetime(2026, 11, 30, 9, 30, tzinfo=VN_TZ)
    assert rules.total_working_days(calendar) == pytest.approx(4 / 7.5)
