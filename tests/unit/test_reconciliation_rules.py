"""Daily reconciliation: our records of a day against the gateway's or the bank's statement."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_service.domain.reconciliation import (
    Category,
    EntryKind,
    OurEntry,
    ReconItem,
    TheirEntry,
    reconcile,
    summary,
)

DAY = dt.datetime(2026, 3, 5, 1, 0, tzinfo=dt.UTC)


def pid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def ours(key: str, amount: int, n: int, kind: EntryKind = "payment", minutes: int = 0) -> OurEntry:
    return OurEntry(key, kind, amount, pid(n), DAY + dt.timedelta(minutes=minutes))


def theirs(
    key: str, amount: int, ext: str, kind: EntryKind = "payment", minutes: int = 1
) -> TheirEntry:
    return TheirEntry(key, kind, amount, ext, DAY + dt.timedelta(minutes=minutes))


def a_day() -> tuple[list[OurEntry], list[TheirEntry]]:
    """Three matched payments, one listed twice by the gateway, one line we never saw, one of
    ours the gateway does not list, and one paid for less than we asked."""
    our = [
        ours("MC0001", 20_000, 1),
        ours("MC0002", 50_000, 2),
        ours("MC0003", 105_000, 3),
        ours("MC0004", 30_000, 4),  # not on the statement
        ours("MC0005", 25_000, 5),  # the statement says less
    ]
    their = [
        theirs("MC0001", 20_000, "14000001"),
        theirs("MC0002", 50_000, "14000002"),
        theirs("MC0002", 50_000, "14000002", minutes=2),  # the same line twice
        theirs("MC0003", 105_000, "14000003"),
        theirs("MC0005", 20_000, "14000005"),
        theirs("MC0099", 15_000, "14000099"),  # unknown to us
    ]
    return our, their


def test_a_day_reports_each_discrepancy_once_and_matches_the_rest() -> None:
    items = reconcile(*a_day())
    assert items == [
        ReconItem(Category.matched, "MC0001", "payment", 20_000, 20_000, pid(1), "14000001"),
        ReconItem(Category.matched, "MC0002", "payment", 50_000, 50_000, pid(2), "14000002"),
        ReconItem(Category.matched, "MC0003", "payment", 105_000, 105_000, pid(3), "14000003"),
        ReconItem(Category.only_ours, "MC0004", "payment", 30_000, None, pid(4), None),
        ReconItem(Category.only_theirs, "MC0099", "payment", None, 15_000, None, "14000099"),
        ReconItem(Category.amount_differs, "MC0005", "payment", 25_000, 20_000, pid(5), "14000005"),
        ReconItem(Category.duplicate_theirs, "MC0002", "payment", None, 50_000, None, "14000002"),
    ]
    assert items[5].difference_vnd == -5_000


def test_the_summary_counts_and_totals_each_category() -> None:
    totals = summary(reconcile(*a_day()))
    assert totals["matched"] == {"count": 3, "our_amount_vnd": 175_000, "their_amount_vnd": 175_000}
    assert totals["only_ours"] == {"count": 1, "our_amount_vnd": 30_000, "their_amount_vnd": 0}
    assert totals["only_theirs"] == {"count": 1, "our_amount_vnd": 0, "their_amount_vnd": 15_000}
    assert totals["amount_differs"] == {
        "count": 1,
        "our_amount_vnd": 25_000,
        "their_amount_vnd": 20_000,
    }
    assert totals["duplicate_theirs"] == {
        "count": 1,
        "our_amount_vnd": 0,
        "their_amount_vnd": 50_000,
    }


def test_a_refund_and_its_payment_under_one_key_are_kept_apart() -> None:
    items = reconcile(
        [ours("MC0001", 50_000, 1), ours("MC0001", 50_000, 1, kind="refund", minutes=30)],
        [theirs("MC0001", 50_000, "14000001")],
    )
    assert [(i.category, i.kind) for i in items] == [
        (Category.matched, "payment"),
        (Category.only_ours, "refund"),
    ]


def test_a_refund_on_the_statement_is_not_a_duplicate_of_the_payment() -> None:
    items = reconcile(
        [ours("MC0001", 50_000, 1), ours("MC0001", 20_000, 1, kind="refund")],
        [
            theirs("MC0001", 50_000, "14000001"),
            theirs("MC0001", 20_000, "14000101", kind="refund"),
        ],
    )
    assert [(i.category, i.kind) for i in items] == [
        (Category.matched, "payment"),
        (Category.matched, "refund"),
    ]
    # Refunds lower the net: 50 000 paid in, 20 000 paid back.
    assert summary(items)["matched"]["our_amount_vnd"] == 30_000


def test_two_partial_refunds_under_one_key_each_find_their_line() -> None:
    items = reconcile(
        [
            ours("MC0001", 10_000, 1, kind="refund"),
            ours("MC0001", 30_000, 1, kind="refund", minutes=5),
        ],
        [
            theirs("MC0001", 30_000, "R2", kind="refund"),
            theirs("MC0001", 10_000, "R1", kind="refund"),
        ],
    )
    assert [(i.category, i.our_amount_vnd, i.external_id) for i in items] == [
        (Category.matched, 10_000, "R1"),
        (Category.matched, 30_000, "R2"),
    ]


def test_an_unknown_key_listed_twice_is_one_orphan_and_one_duplicate() -> None:
    items = reconcile([], [theirs("X", 1_000, "A"), theirs("X", 1_000, "A", minutes=3)])
    assert [i.category for i in items] == [Category.only_theirs, Category.duplicate_theirs]


def test_the_summary_lists_every_category_even_when_empty() -> None:
    assert summary([]) == {
        c.value: {"count": 0, "our_amount_vnd": 0, "their_amount_vnd": 0} for c in Category
    }


def test_an_entry_needs_a_known_kind_an_amount_and_an_aware_time() -> None:
    with pytest.raises(ValueError):
        OurEntry("MC1", "chargeback", 1, None, DAY)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TheirEntry("MC1", "payment", -1, None, DAY)
    with pytest.raises(ValueError):
        TheirEntry("MC1", "payment", 1, None, dt.datetime(2026, 3, 5, 8, 0))


def test_reconciling_again_gives_the_identical_report() -> None:
    our, their = a_day()
    assert reconcile(our, their) == reconcile(list(our), list(their))


# Few keys and amounts, so that collisions, duplicates and mismatches are common.
_keys = st.sampled_from(["MC1", "MC2", "MC3", "MC4"])
_kinds = st.sampled_from(["payment", "refund"])
_amounts = st.sampled_from([10_000, 20_000, 50_000])
_times = st.integers(min_value=0, max_value=3).map(lambda m: DAY + dt.timedelta(minutes=m))
_our_entries = st.lists(
    st.builds(
        OurEntry,
        _keys,
        _kinds,
        _amounts,
        st.one_of(st.none(), st.integers(1, 3).map(pid)),
        _times,
    ),
    max_size=12,
)
_their_entries = st.lists(
    st.builds(
        TheirEntry,
        _keys,
        _kinds,
        _amounts,
        st.one_of(st.none(), st.sampled_from(["T1", "T2", "T3"])),
        _times,
    ),
    max_size=12,
)


@given(_our_entries, _their_entries, st.randoms(use_true_random=False))
def test_the_report_does_not_depend_on_the_order_of_the_inputs(
    our: list[OurEntry], their: list[TheirEntry], rng: random.Random
) -> None:
    first = reconcile(our, their)
    shuffled_ours, shuffled_theirs = list(our), list(their)
    rng.shuffle(shuffled_ours)
    rng.shuffle(shuffled_theirs)
    assert reconcile(shuffled_ours, shuffled_theirs) == first
    assert summary(reconcile(shuffled_ours, shuffled_theirs)) == summary(first)


@given(_our_entries, _their_entries)
def test_every_entry_ends_up_in_exactly_one_item(
    our: list[OurEntry], their: list[TheirEntry]
) -> None:
    counts = {c: 0 for c in Category}
    for item in reconcile(our, their):
        counts[item.category] += 1
    paired = counts[Category.matched] + counts[Category.amount_differs]
    assert paired + counts[Category.only_ours] == len(our)
    assert paired + counts[Category.only_theirs] + counts[Category.duplicate_theirs] == len(their)
