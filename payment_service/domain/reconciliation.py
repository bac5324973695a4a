"""Daily reconciliation (đối soát): our records of one day against the statement the gateway or
the bank sends for the same day, for one collecting agency and one payment method.

The caller picks the entries of the day on both sides; this module only pairs them. Entries pair
on their key (our transaction reference, or the bank's transaction id for a transfer) and their
kind, so a refund is never taken for the payment it returns. Every entry of either side ends up
in exactly one item of the report, and the report depends only on what the two sides hold, never
on the order they were listed in: running it again gives the identical report.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

EntryKind = Literal["payment", "refund"]
KINDS: tuple[EntryKind, ...] = ("payment", "refund")


class Category(StrEnum):
    """What became of an entry. The declaration order is the order of the report."""

    matched = "matched"
    only_ours = "only_ours"  # we recorded it, the statement does not list it
    only_theirs = "only_theirs"  # the statement lists it, we have no record of it
    amount_differs = "amount_differs"
    duplicate_theirs = "duplicate_theirs"  # a further statement line for a key already paired


_CATEGORY_ORDER = {category: i for i, category in enumerate(Category)}


@dataclass(frozen=True)
class OurEntry:
    key: str  # our transaction reference, or the bank transaction id of a transfer
    kind: EntryKind
    amount_vnd: int
    payment_id: uuid.UUID | None
    at: dt.datetime

    def __post_init__(self) -> None:
        _check(self.kind, self.amount_vnd, self.at)


@dataclass(frozen=True)
class TheirEntry:
    key: str
    kind: EntryKind
    amount_vnd: int
    external_id: str | None  # the gateway's transaction number, or the bank's transaction id
    at: dt.datetime

    def __post_init__(self) -> None:
        _check(self.kind, self.amount_vnd, self.at)


def _check(kind: str, amount_vnd: int, at: dt.datetime) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown entry kind {kind!r}")
    # Amounts are magnitudes; the kind says which way the money went.
    if amount_vnd < 0:
        raise ValueError("an entry's amount cannot be negative")
    # Statements come in Vietnam's time and our records in UTC; only aware instants compare.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an entry's time must be timezone-aware")


@dataclass(frozen=True)
class ReconItem:
    category: Category
    key: str
    kind: EntryKind
    our_amount_vnd: int | None
    their_amount_vnd: int | None
    payment_id: uuid.UUID | None
    external_id: str | None

    @property
    def difference_vnd(self) -> int:
        """What the statement says minus what we recorded; a missing side counts as zero."""
        return (self.their_amount_vnd or 0) - (self.our_amount_vnd or 0)


def _ours_order(entry: OurEntry) -> tuple[int, dt.datetime, str]:
    return (entry.amount_vnd, entry.at, str(entry.payment_id or ""))


def _theirs_order(entry: TheirEntry) -> tuple[int, dt.datetime, str]:
    return (entry.amount_vnd, entry.at, entry.external_id or "")


def _item(
    category: Category,
    key: str,
    kind: EntryKind,
    ours: OurEntry | None,
    theirs: TheirEntry | None,
) -> ReconItem:
    return ReconItem(
        category=category,
        key=key,
        kind=kind,
        our_amount_vnd=ours.amount_vnd if ours else None,
        their_amount_vnd=theirs.amount_vnd if theirs else None,
        payment_id=ours.payment_id if ours else None,
        external_id=theirs.external_id if theirs else None,
    )


def _pair_group(
    key: str, kind: EntryKind, ours: list[OurEntry], theirs: list[TheirEntry]
) -> list[ReconItem]:
    """The items of one (key, kind). Both sides are sorted first, so the pairing depends on the
    entries alone. Equal amounts pair before unequal ones: when we hold two partial refunds under
    one key and the statement lists both, each finds its own line."""
    ours = sorted(ours, key=_ours_order)
    theirs = sorted(theirs, key=_theirs_order)
    items: list[ReconItem] = []
    unpaired_ours: list[OurEntry] = []
    for our in ours:
        same = next((t for t in theirs if t.amount_vnd == our.amount_vnd), None)
        if same is None:
            unpaired_ours.append(our)
            continue
        theirs.remove(same)
        items.append(_item(Category.matched, key, kind, our, same))
    # What is left on both sides pairs in amount order: the same transaction, differing amounts.
    differing = min(len(unpaired_ours), len(theirs))
    for our, their in zip(unpaired_ours[:differing], theirs[:differing], strict=True):
        items.append(_item(Category.amount_differs, key, kind, our, their))
    for our in unpaired_ours[differing:]:
        items.append(_item(Category.only_ours, key, kind, our, None))
    extra = theirs[differing:]
    if extra and not ours:
        # Unknown to us: the first line is the orphan, any further line a duplicate of it.
        items.append(_item(Category.only_theirs, key, kind, None, extra[0]))
        extra = extra[1:]
    for their in extra:
        items.append(_item(Category.duplicate_theirs, key, kind, None, their))
    return items


def _report_order(item: ReconItem) -> tuple[int, str, str, int, int, str, str]:
    # Beyond category, key and kind, the remaining fields break ties so the order is total.
    return (
        _CATEGORY_ORDER[item.category],
        item.key,
        item.kind,
        -1 if item.our_amount_vnd is None else item.our_amount_vnd,
        -1 if item.their_amount_vnd is None else item.their_amount_vnd,
        str(item.payment_id or ""),
        item.external_id or "",
    )


def reconcile(ours: Sequence[OurEntry], theirs: Sequence[TheirEntry]) -> list[ReconItem]:
    """The reconciliation report of one day: one item per pair or unpaired entry, ordered by
    category (as :class:`Category` declares them), then key, then kind.

    Within one (key, kind): our entries pair one to one with statement lines, equal amounts first
    (``matched``), then the rest (``amount_differs``). Our entries left over are ``only_ours``.
    Statement lines left over are ``duplicate_theirs`` when we hold the key, and when we do not,
    the first is ``only_theirs`` and every further one ``duplicate_theirs``."""
    groups_ours: defaultdict[tuple[str, EntryKind], list[OurEntry]] = defaultdict(list)
    groups_theirs: defaultdict[tuple[str, EntryKind], list[TheirEntry]] = defaultdict(list)
    for our in ours:
        groups_ours[(our.key, our.kind)].append(our)
    for their in theirs:
        groups_theirs[(their.key, their.kind)].append(their)
    items: list[ReconItem] = []
    for key, kind in groups_ours.keys() | groups_theirs.keys():
        items += _pair_group(key, kind, groups_ours[(key, kind)], groups_theirs[(key, kind)])
    return sorted(items, key=_report_order)


def _signed(kind: EntryKind, amount: int | None) -> int:
    # A refund is money going back out, so it lowers the day's net.
    if amount is None:
        return 0
    return -amount if kind == "refund" else amount


def summary(items: Iterable[ReconItem]) -> dict[str, dict[str, int]]:
    """Per category: how many items, and the net amount on each side (payments minus refunds).
    Every category is present, with zeros when empty, so two days' summaries compare key by key."""
    totals = {
        category.value: {"count": 0, "our_amount_vnd": 0, "their_amount_vnd": 0}
        for category in Category
    }
    for item in items:
        row = totals[item.category.value]
        row["count"] += 1
        row["our_amount_vnd"] += _signed(item.kind, item.our_amount_vnd)
        row["their_amount_vnd"] += _signed(item.kind, item.their_amount_vnd)
    return totals
