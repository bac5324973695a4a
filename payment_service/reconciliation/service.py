"""Daily reconciliation (đối soát) of one collecting agency and one method: our records of the
day against the gateway's or the bank's statement of it, paired by ``domain.reconciliation``
and kept as one run per (agency, method, day).

A run reads and writes nothing but its own row, so running a day again is always safe: the row
is replaced with the report of what both sides hold now, and when neither side changed, the
items and the summary come out identical.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import require
from payment_service.db.models import ReconciliationRun
from payment_service.domain import payees
from payment_service.domain.authority import Act
from payment_service.domain.reconciliation import (
    Category,
    OurEntry,
    ReconItem,
    TheirEntry,
    reconcile,
    summary,
)
from payment_service.domain.vnpay import VN_TZ
from payment_service.gateways.vnpay_client import Terminal, VnpayClient
from payment_service.reconciliation import errors, repository, statements
from payment_service.reconciliation.schemas import (
    CATEGORY_LABELS_VI,
    METHOD_LABELS_VI,
    ItemOut,
    ReconciliationCreate,
    RunListItem,
    RunOut,
    RunPage,
    SummaryRow,
)
from payment_service.settings import PaymentSettings
from shared.auth import Principal

log = structlog.get_logger(__name__)

# No setting of its own yet: the bank answers a statement as fast as the gateway does.
BANK_TIMEOUT_S = 10.0


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants a Vietnam-time day spans; rows are stored in UTC."""
    start = dt.datetime.combine(day, dt.time.min, VN_TZ)
    return start, start + dt.timedelta(days=1)


async def agency_unit_path(session: AsyncSession, agency_code: str) -> str:
    """The unit whose officers may reconcile the agency.

    A province's agency (``ttphcc-01``, ``thue-01``) answers to the province, whichever ward
    the dossiers it collects for were received at: a tax authority's payments carry ward paths,
    and a ward officer must not reconcile the province's account. A ward's one-stop desk
    (``motcua-00070``) answers to its ward, whose path payment knows from the desk's payments
    or, before the first one, from any dossier received there."""
    known = payees.agency_unit_path(agency_code)
    if known is not None:
        return known
    unit = agency_code.partition("-")[2]
    path = await repository.unit_path_of_agency_payments(session, agency_code)
    path = path or await repository.unit_path_of_unit(session, unit)
    if path is None:
        raise errors.agency_unknown(agency_code)
    return path


def _known(*instants: dt.datetime | None) -> dt.datetime:
    """The first known instant, as the repository's window reads it (``coalesce``): it returns
    only rows that have one."""
    for at in instants:
        if at is not None:
            return at
    raise ValueError("an entry's time is unknown")


async def _vnpay_ours(
    session: AsyncSession, agency_code: str, start: dt.datetime, end: dt.datetime
) -> list[OurEntry]:
    ours = [
        OurEntry(
            key=p.reference,
            kind="payment",
            # What the gateway said it took is what we recorded as received.
            amount_vnd=p.received_vnd if p.received_vnd is not None else p.amount_vnd,
            payment_id=p.id,
            at=_known(p.paid_at, p.finished_at),
        )
        for p in await repository.vnpay_payments(session, agency_code, start, end)
    ]
    ours += [
        OurEntry(
            key=reference,
            kind="refund",
            amount_vnd=refund.amount_vnd,
            payment_id=refund.payment_id,
            at=_known(refund.finished_at),
        )
        for refund, reference in await repository.vnpay_refunds(session, agency_code, start, end)
    ]
    return ours


async def _vnpay_theirs(
    session: AsyncSession,
    settings: PaymentSettings,
    client: VnpayClient,
    agency_code: str,
    day: dt.date,
    now: dt.datetime,
) -> list[TheirEntry]:
    payee = payees.payee(settings, agency_code)
    if not payee.tmn_code or not payee.hash_secret:
        raise errors.no_terminal(agency_code)
    lines = await statements.vnpay_statement(
        client, Terminal(payee.tmn_code, payee.hash_secret), day, now
    )
    # Agencies without a terminal of their own share the default one, whose statement lists
    # all of theirs: a line of another agency's payment is that agency's to reconcile. A line
    # nobody's payment explains stays, in every sharing agency's report, until someone does.
    others = await repository.references_of_other_agencies(
        session, agency_code, {line.key for line in lines}
    )
    return [line for line in lines if line.key not in others]


async def _vietqr_sides(
    session: AsyncSession,
    settings: PaymentSettings,
    agency_code: str,
    day: dt.date,
    now: dt.datetime,
) -> tuple[list[OurEntry], list[TheirEntry]]:
    account_no = payees.payee(settings, agency_code).account_no
    lines = await statements.bank_statement(
        settings.bank_statement_url,
        settings.bank_notice_secret.get_secret_value(),
        account_no,
        day,
        timeout_s=BANK_TIMEOUT_S,
        max_skew_s=settings.bank_notice_max_skew_s,
        now=now,
    )
    # As with a shared terminal: the treasury's account collects for many agencies. Credits we
    # could not attribute (a wrong memo, a second transfer) stay, as money nobody explained.
    others = await repository.credits_of_other_agencies(
        session, agency_code, {line.key for line in lines}
    )
    start, end = day_bounds(day)
    ours = [
        OurEntry(
            key=credit.bank_txn_id,
            kind="payment",
            amount_vnd=credit.amount_vnd,
            payment_id=credit.payment_id,
            at=credit.credited_at,
        )
        for credit in await repository.matched_credits(session, agency_code, account_no, start, end)
    ]
    return ours, [line for line in lines if line.key not in others]


def _stored_item(item: ReconItem) -> dict[str, Any]:
    return {
        "category": item.category.value,
        "key": item.key,
        "kind": item.kind,
        "our_amount_vnd": item.our_amount_vnd,
        "their_amount_vnd": item.their_amount_vnd,
        "difference_vnd": item.difference_vnd,
        "payment_id": str(item.payment_id) if item.payment_id else None,
        "external_id": item.external_id,
    }


async def run(
    session: AsyncSession,
    settings: PaymentSettings,
    client: VnpayClient,
    principal: Principal,
    body: ReconciliationCreate,
    now: dt.datetime,
) -> tuple[int, RunOut]:
    """Reconcile the day and store the report: 201 for a day's first run, 200 for a re-run."""
    require(principal, Act.reconcile)
    if body.day > now.astimezone(VN_TZ).date():
        raise errors.day_not_begun(body.day)
    unit_path = await agency_unit_path(session, body.agency_code)
    if not principal.covers(unit_path):
        raise errors.outside_scope(body.agency_code)
    # The statement is fetched inside the request's transaction: until the closing upsert that
    # holds no lock, only a connection, for at most the client's timeout.
    try:
        if body.method == "vnpay":
            theirs = await _vnpay_theirs(session, settings, client, body.agency_code, body.day, now)
            ours = await _vnpay_ours(session, body.agency_code, *day_bounds(body.day))
        else:
            ours, theirs = await _vietqr_sides(session, settings, body.agency_code, body.day, now)
    except statements.StatementUnavailable as exc:
        log.warning(
            "reconciliation statement unavailable",
            agency_code=body.agency_code,
            method=body.method,
            day=body.day.isoformat(),
            source=exc.source,
            error=exc.why,
        )
        raise errors.statement_unavailable(exc.source, exc.why) from exc
    items = reconcile(ours, theirs)
    saved = await repository.save_run(
        session,
        {
            "id": uuid.uuid4(),
            "agency_code": body.agency_code,
            "unit_path": unit_path,
            "method": body.method,
            "day": body.day,
            "summary": summary(items),
            "items": [_stored_item(item) for item in items],
            "ran_at": now,
            "ran_by": principal.sub,
        },
    )
    return (201 if saved.runs == 1 else 200), run_out(saved)


# --------------------------------------------------------------------------- API side


def _summary(row: ReconciliationRun) -> dict[Category, SummaryRow]:
    return {
        Category(category): SummaryRow(label_vi=CATEGORY_LABELS_VI[category], **totals)
        for category, totals in row.summary.items()
    }


def _discrepancies(row: ReconciliationRun) -> int:
    return sum(t["count"] for c, t in row.summary.items() if c != Category.matched)


def list_item(row: ReconciliationRun) -> RunListItem:
    return RunListItem(
        id=row.id,
        agency_code=row.agency_code,
        unit_path=row.unit_path,
        method=row.method,
        method_vi=METHOD_LABELS_VI.get(row.method, row.method),
        day=row.day,
        summary=_summary(row),
        discrepancies=_discrepancies(row),
        runs=row.runs,
        ran_at=row.ran_at,
        ran_by=row.ran_by,
    )


def run_out(row: ReconciliationRun) -> RunOut:
    return RunOut(
        **list_item(row).model_dump(),
        items=[
            ItemOut(**item, category_vi=CATEGORY_LABELS_VI[item["category"]]) for item in row.items
        ],
    )


async def read(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> RunOut:
    # Who may reconcile may read: a run lays out all of an agency's money of a day.
    require(principal, Act.reconcile)
    row = await repository.visible_run(session, run_id, principal)
    if row is None:
        raise errors.run_not_found()
    return run_out(row)


async def list_runs(
    session: AsyncSession,
    principal: Principal,
    *,
    agency_code: str | None,
    method: str | None,
    day_from: dt.date | None,
    day_to: dt.date | None,
    cursor: str | None,
    limit: int,
) -> RunPage:
    require(principal, Act.reconcile)
    rows = await repository.list_runs(
        session,
        principal,
        agency_code=agency_code,
        method=method,
        day_from=day_from,
        day_to=day_to,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.RUN_ORDER.page(rows, limit, lambda r: (r.day, r.id))
    return RunPage(items=[list_item(r) for r in page], next_cursor=next_cursor)
