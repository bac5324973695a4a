"""Matching bank credits (credit notices, statement lines) to the payments we expect."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_service.domain.credit_matching import (
    FALLBACK_WINDOW,
    Credit,
    Expected,
    Match,
    Outcome,
    match_credit,
    match_statement,
)

VN = dt.timezone(dt.timedelta(hours=7))
CREATED = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)
ACCOUNT = "113366668888"
OTHER_ACCOUNT = "0023457923442"


def pid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def expected(
    n: int,
    reference: str,
    amount: int = 50_000,
    *,
    account: str = ACCOUNT,
    settled: bool = False,
    expires_at: dt.datetime | None = None,
) -> Expected:
    return Expected(
        payment_id=pid(n),
        reference=reference,
        amount_vnd=amount,
        account=account,
        created_at=CREATED,
        expires_at=expires_at,
        settled=settled,
    )


def credit(
    txn: str,
    memo: str,
    amount: int = 50_000,
    *,
    account: str = ACCOUNT,
    after: dt.timedelta = dt.timedelta(minutes=10),
) -> Credit:
    # Banks report in Vietnam's time; the payments were created in UTC.
    return Credit(
        bank_txn_id=txn,
        account=account,
        amount_vnd=amount,
        memo=memo,
        credited_at=(CREATED + after).astimezone(VN),
    )


FEE = expected(1, "MC7K3F9Q2A")
OTHER_FEE = expected(2, "MC9X2B7R4D", 30_000)
CANDIDATES = [FEE, OTHER_FEE]


def test_exact_amount_with_the_reference_in_the_memo_is_matched() -> None:
    result = match_credit(credit("FT1", "MC7K3F9Q2A LE PHI"), CANDIDATES, set())
    assert result == Match(Outcome.matched, FEE.payment_id, 50_000, 0)


@pytest.mark.parametrize(
    "memo",
    [
        "CK mc7k3f9q2a",
        "HS000123 LE PHI MC7K3F9Q2A",
        "MC7K 3F9Q 2A",
        "MBVCB.8812345.MC7K3F9Q2A.CT tu 0123456789 NGUYEN VAN A",
        "Lệ phí mc7k-3f9q-2a",
    ],
)
def test_the_reference_is_found_however_the_bank_app_wrote_the_memo(memo: str) -> None:
    assert match_credit(credit("FT1", memo), CANDIDATES, set()).outcome is Outcome.matched


def test_more_money_than_expected_is_overpaid_by_the_difference() -> None:
    result = match_credit(credit("FT1", "MC7K3F9Q2A", 60_000), CANDIDATES, set())
    assert result == Match(Outcome.overpaid, FEE.payment_id, 50_000, 10_000)


def test_less_money_than_expected_is_underpaid_by_a_negative_difference() -> None:
    result = match_credit(credit("FT1", "MC7K3F9Q2A", 20_000), CANDIDATES, set())
    assert result == Match(Outcome.underpaid, FEE.payment_id, 50_000, -30_000)


def test_a_memo_without_any_reference_and_no_fitting_amount_is_wrong_memo() -> None:
    result = match_credit(credit("FT1", "chuyen tien", 45_000), CANDIDATES, set())
    assert result == Match(Outcome.wrong_memo, None, None, 0)


def test_a_bank_transaction_id_already_seen_is_a_duplicate() -> None:
    result = match_credit(credit("FT1", "MC7K3F9Q2A"), CANDIDATES, {"FT0", "FT1"})
    assert result == Match(Outcome.duplicate, None, None, 0)


def test_a_credit_for_a_payment_already_settled_is_a_duplicate() -> None:
    settled = expected(1, "MC7K3F9Q2A", settled=True)
    result = match_credit(credit("FT2", "CK MC7K3F9Q2A"), [settled, OTHER_FEE], set())
    assert result == Match(Outcome.duplicate, settled.payment_id, 50_000, 0)


def test_without_a_reference_a_unique_amount_within_the_window_is_matched() -> None:
    result = match_credit(credit("FT1", "NGUYEN VAN A chuyen tien", 30_000), CANDIDATES, set())
    assert result == Match(Outcome.matched, OTHER_FEE.payment_id, 30_000, 0)


def test_without_a_reference_two_payments_of_that_amount_are_wrong_memo() -> None:
    twins = [expected(1, "MC7K3F9Q2A"), expected(3, "MC4H8N2V6W")]
    result = match_credit(credit("FT1", "le phi ho so"), twins, set())
    assert result.outcome is Outcome.wrong_memo
    assert result.payment_id is None


def test_without_a_reference_a_settled_twin_does_not_make_the_fallback_ambiguous() -> None:
    pair = [expected(1, "MC7K3F9Q2A", settled=True), expected(3, "MC4H8N2V6W")]
    result = match_credit(credit("FT1", "le phi ho so"), pair, set())
    assert result == Match(Outcome.matched, pid(3), 50_000, 0)


def test_without_a_reference_a_credit_after_the_expiry_is_wrong_memo() -> None:
    fee = expected(1, "MC7K3F9Q2A", expires_at=CREATED + dt.timedelta(minutes=15))
    late = credit("FT1", "le phi", after=dt.timedelta(minutes=16))
    on_time = credit("FT2", "le phi", after=dt.timedelta(minutes=15))
    assert match_credit(late, [fee], set()).outcome is Outcome.wrong_memo
    assert match_credit(on_time, [fee], set()).outcome is Outcome.matched


def test_without_a_reference_or_expiry_the_window_is_seven_days() -> None:
    last = credit("FT1", "le phi", after=FALLBACK_WINDOW)
    past = credit("FT2", "le phi", after=FALLBACK_WINDOW + dt.timedelta(seconds=1))
    assert match_credit(last, [FEE], set()).outcome is Outcome.matched
    assert match_credit(past, [FEE], set()).outcome is Outcome.wrong_memo


def test_without_a_reference_a_credit_before_the_payment_existed_is_wrong_memo() -> None:
    early = credit("FT1", "le phi", after=-dt.timedelta(minutes=1))
    assert match_credit(early, [FEE], set()).outcome is Outcome.wrong_memo


def test_a_named_payment_is_matched_even_after_its_expiry() -> None:
    fee = expected(1, "MC7K3F9Q2A", expires_at=CREATED + dt.timedelta(minutes=15))
    late = credit("FT1", "MC7K3F9Q2A", after=dt.timedelta(days=30))
    assert match_credit(late, [fee], set()).outcome is Outcome.matched


def test_a_reference_on_another_account_is_not_taken_for_this_credit() -> None:
    elsewhere = expected(1, "MC7K3F9Q2A", account=OTHER_ACCOUNT)
    result = match_credit(credit("FT1", "MC7K3F9Q2A", 45_000), [elsewhere], set())
    assert result.outcome is Outcome.wrong_memo


def test_a_memo_naming_two_payments_is_wrong_memo() -> None:
    result = match_credit(credit("FT1", "MC7K3F9Q2A MC9X2B7R4D", 80_000), CANDIDATES, set())
    assert result == Match(Outcome.wrong_memo, None, None, 0)


def test_a_reference_inside_a_longer_found_reference_gives_way_to_it() -> None:
    short, long = expected(1, "MC12"), expected(2, "MC123")
    result = match_credit(credit("FT1", "CK MC123"), [short, long], set())
    assert result.payment_id == long.payment_id


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Credit("FT1", ACCOUNT, 50_000, "memo", dt.datetime(2026, 3, 5, 9, 0))


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="reference"):
        expected(1, " - ")


def test_a_statement_lands_each_credit_in_its_bucket_and_a_repeated_line_once() -> None:
    exact = expected(1, "MC7K3F9Q2A", 50_000)
    over = expected(2, "MC9X2B7R4D", 30_000)
    under = expected(3, "MC4H8N2V6W", 100_000)
    statement = [
        credit("FT1", "CK MC7K3F9Q2A", 50_000),
        credit("FT2", "MC9X2B7R4D HS000124", 35_000),
        credit("FT3", "HS000125 LE PHI MC4H8N2V6W", 90_000),
        credit("FT4", "ung ho", 12_345),
        credit("FT1", "CK MC7K3F9Q2A", 50_000),  # the same line listed again
        credit("FT5", "MC7K3F9Q2A lan 2", 50_000),  # the payer paid the same fee twice
    ]
    results = match_statement(statement, [exact, over, under], set())
    assert results == [
        Match(Outcome.matched, exact.payment_id, 50_000, 0),
        Match(Outcome.overpaid, over.payment_id, 30_000, 5_000),
        Match(Outcome.underpaid, under.payment_id, 100_000, -10_000),
        Match(Outcome.wrong_memo, None, None, 0),
        Match(Outcome.duplicate, None, None, 0),
        Match(Outcome.duplicate, exact.payment_id, 50_000, 0),
    ]
    assert Counter(r.outcome for r in results)[Outcome.matched] == 1


def test_a_statement_line_already_seen_as_a_credit_notice_is_a_duplicate() -> None:
    results = match_statement([credit("FT1", "MC7K3F9Q2A")], CANDIDATES, {"FT1"})
    assert results == [Match(Outcome.duplicate, None, None, 0)]


def test_an_underpayment_does_not_settle_the_payment_for_later_lines() -> None:
    statement = [credit("FT1", "MC7K3F9Q2A", 20_000), credit("FT2", "MC7K3F9Q2A", 50_000)]
    outcomes = [r.outcome for r in match_statement(statement, CANDIDATES, set())]
    assert outcomes == [Outcome.underpaid, Outcome.matched]


def test_a_fallback_match_settles_the_payment_for_later_lines() -> None:
    statement = [credit("FT1", "chuyen tien", 30_000), credit("FT2", "chuyen tien", 30_000)]
    outcomes = [r.outcome for r in match_statement(statement, CANDIDATES, set())]
    assert outcomes == [Outcome.matched, Outcome.wrong_memo]


def test_match_statement_leaves_its_arguments_alone() -> None:
    seen: set[str] = {"FT0"}
    candidates = list(CANDIDATES)
    match_statement([credit("FT1", "MC7K3F9Q2A")], candidates, seen)
    assert seen == {"FT0"}
    assert candidates == CANDIDATES
    assert not FEE.settled


_POOL = [
    expected(1, "MC7K3F9Q2A", 50_000),
    expected(2, "MC9X2B7R4D", 30_000),
    expected(3, "MC4H8N2V6W", 50_000),
    expected(4, "MC2P5T8Y1Z", 30_000, settled=True),
]
_MEMOS = ["CK MC7K3F9Q2A", "mc9x2b7r4d", "HS000125 MC4H8N2V6W", "MC2P5T8Y1Z", "chuyen tien", ""]
_LINES = st.builds(
    credit,
    txn=st.sampled_from(["FT1", "FT2", "FT3", "FT4", "FT5"]),
    memo=st.sampled_from(_MEMOS),
    amount=st.sampled_from([20_000, 30_000, 50_000, 60_000]),
    after=st.sampled_from([dt.timedelta(minutes=5), dt.timedelta(days=8)]),
)


@given(
    lines=st.lists(_LINES, max_size=12),
    seen=st.sets(st.sampled_from(["FT1", "FT9"])),
    data=st.data(),
)
def test_whatever_the_line_order_no_credit_or_payment_counts_twice(
    lines: list[Credit], seen: set[str], data: st.DataObject
) -> None:
    for order in (lines, data.draw(st.permutations(lines), label="shuffled")):
        results = match_statement(order, _POOL, seen)
        taken = Counter(c.bank_txn_id for c, r in zip(order, results, strict=True) if r.payment_id)
        counted = Counter(
            c.bank_txn_id
            for c, r in zip(order, results, strict=True)
            if r.outcome is not Outcome.duplicate or r.payment_id is not None
        )
        # Each bank transaction is dealt with once, on its first line, unless seen before.
        assert all(n == 1 for n in counted.values())
        assert all(txn not in seen for txn in counted)
        assert all(n <= 1 for n in taken.values())
        # A payment is matched by at most one credit, and never when it was already settled.
        matched = Counter(r.payment_id for r in results if r.outcome is Outcome.matched)
        assert all(n == 1 for n in matched.values())
        assert pid(4) not in matched
