"""Money arriving by bank transfer: the bank's signed credit notice, and the day's statement
for the credits whose notice never came (payment.md §2.3, §5).

Each credit is claimed once by the bank's transaction id, matched against the transfer
payments it may pay (``domain.credit_matching``), and applied in the caller's transaction:
the payment succeeds, or moves to ``amount_mismatch``, and whatever a person must decide goes
to the exception queue. A notice delivered twice, or a statement line already learnt from a
notice, changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any, Final

import httpx
import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.bank import errors, repository
from payment_service.bank.repository import Agencies
from payment_service.bank.schemas import (
    OUTCOME_LABELS_VI,
    BankCreditOut,
    BankCreditPage,
    BankNotice,
    BankNoticeOut,
    OutcomeCounts,
    StatementImport,
    StatementImportOut,
    StatementLine,
)
from payment_service.common import callbacks
from payment_service.common.access import require
from payment_service.db.models import BankCredit, Payment
from payment_service.domain import payees
from payment_service.domain.authority import Act
from payment_service.domain.credit_matching import (
    Credit,
    Expected,
    Match,
    Outcome,
    compact,
    match_credit,
)
from payment_service.domain.states import OPEN, PaymentAction, PaymentStatus, allowed
from payment_service.gateways import service as gateways
from payment_service.payments import service as payments
from payment_service.settings import PaymentSettings
from shared.auth import Principal
from shared.errors import Problem
from shared.messaging.outbox import Outbox

log = structlog.get_logger(__name__)

ACTOR: Final = "bank"
STATEMENT_TIMEOUT_S: Final = 10.0
# What is kept of a raw message: enough for any notice and a day's statement of an agency.
_RAW_KEPT_NOTICE: Final = 16_384
_RAW_KEPT_STATEMENT: Final = 1_048_576
# A transfer reference is as long as ``payments.service`` makes it; the memo is cut into
# windows of that length so the lookup uses the unique index on the reference.
REFERENCE_LENGTH: Final = len(payments.new_reference("HS"))
# A credit without a reference may pay a payment still waiting, or one the expiry sweep ended
# before the statement brought the credit: matching keeps to the payment's window anyway.
_FALLBACK_STATUSES: Final = frozenset(s.value for s in OPEN | {PaymentStatus.expired})
# Kept in payment.gateway_txn_no, which is shorter than a bank's transaction id may be.
_TXN_NO_MAX: Final = 40


# --------------------------------------------------------------------------- signatures


def signature_valid(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: dt.datetime,
    max_skew_s: int,
) -> bool:
    """``signature`` is hex HMAC-SHA256(secret, timestamp + "." + raw body), compared in
    constant time, and the timestamp is within ``max_skew_s`` of now (an old message replayed
    later is refused). Without a configured secret nothing is authentic."""
    if not secret or not timestamp or not signature:
        return False
    stamp = timestamp.strip()
    if not stamp.isdigit() or abs(now.timestamp() - int(stamp)) > max_skew_s:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def _secret(settings: PaymentSettings) -> str:
    return settings.bank_notice_secret.get_secret_value()


def _raw(body: bytes, limit: int) -> dict[str, Any]:
    text = body[:limit].decode("utf-8", errors="replace")
    return {"raw_body": text, "truncated": True} if len(body) > limit else {"raw_body": text}


# --------------------------------------------------------------------------- accounts


def agencies_of_account(settings: PaymentSettings, account_no: str) -> Agencies:
    """Whose money lands on ``account_no``: the agencies registered with it, or, for the
    default account, every agency that registered no account of its own."""
    key = compact(account_no)
    own = {code: compact(payees.payee(settings, code).account_no) for code in settings.payees}
    if key == compact(settings.default_account_no):
        return Agencies(None, frozenset(code for code, acc in own.items() if acc != key))
    return Agencies(frozenset(code for code, acc in own.items() if acc == key))


def is_our_account(settings: PaymentSettings, account_no: str) -> bool:
    agencies = agencies_of_account(settings, account_no)
    return agencies.only is None or bool(agencies.only)


async def account_unit(
    session: AsyncSession, settings: PaymentSettings, account_no: str
) -> tuple[str, str | None]:
    """(unit path, agency) an unmatched credit on ``account_no`` is queued under.

    Nothing names the dossier, so the best known is the province of the agencies that own the
    account: ``ttphcc-<province>`` and ``thue-<province>`` say it in their code, a ward's desk
    by the requests it collected for. The default account serves every province, and an
    account whose owners lie in several provinces or have collected nothing yet cannot be
    placed either: those credits get the empty path, which only ops sees (``unit_scope``)."""
    agencies = agencies_of_account(settings, account_no)
    if not agencies.only:
        return "", None
    provinces: dict[str, set[str]] = {}
    wards = []
    for code in agencies.only:
        kind, _, suffix = code.partition("-")
        if kind in ("ttphcc", "thue") and suffix:
            provinces[code] = {suffix}
        else:
            wards.append(code)
    if wards:
        provinces.update(await repository.provinces_of_agencies(session, wards))
    agency = next(iter(agencies.only)) if len(agencies.only) == 1 else None
    every = set().union(*provinces.values()) if provinces else set()
    if len(provinces) != len(agencies.only) or len(every) != 1:
        return "", agency
    return every.pop(), agency


# --------------------------------------------------------------------------- matching


def _takes_money(status: str) -> bool:
    """Whether the state table lets money in: waiting, or ended without it (a late payment)."""
    return allowed(status, PaymentAction.succeed) or allowed(status, PaymentAction.succeed_late)


def _expected(settings: PaymentSettings, payment: Payment) -> Expected | None:
    if payment.amount_vnd <= 0 or (
        payment.expires_at is not None and payment.expires_at < payment.created_at
    ):
        return None  # not a payment a credit can be for; Expected would refuse it
    return Expected(
        payment_id=payment.id,
        reference=payment.reference,
        amount_vnd=payment.amount_vnd,
        account=payees.payee(settings, payment.agency_code).account_no,
        created_at=payment.created_at,
        expires_at=payment.expires_at,
        # Paid, or in a state no more money can enter (amount_mismatch, voided, refunded):
        # a further credit for it is money to give back.
        settled=not _takes_money(payment.status),
    )


def _reference_windows(memo: str) -> set[str]:
    n = REFERENCE_LENGTH
    return {memo[i : i + n] for i in range(len(memo) - n + 1)}


async def apply_credit(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    notice: BankNotice,
    source: str,
    now: dt.datetime,
) -> BankCredit | None:
    """Claim, match and apply one credit; None when its bank transaction id is known."""
    credit = await claim(session, notice, source, now)
    if credit is not None:
        await settle(session, outbox, settings, credit, now)
    return credit


async def claim(
    session: AsyncSession, notice: BankNotice, source: str, now: dt.datetime
) -> BankCredit | None:
    """Record the credit under its bank transaction id; None when that id is known."""
    return await repository.claim_credit(
        session,
        {
            "id": uuid.uuid4(),
            "bank_txn_id": notice.transaction_id,
            "bank_bin": notice.bank_bin,
            "account_no": notice.account_no,
            "amount_vnd": notice.amount_vnd,
            "memo": notice.description,
            "credited_at": notice.credited_at,
            "source": source,
            "outcome": "received",  # replaced below, before the transaction ends
            "received_at": now,
        },
    )


async def settle(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    credit: BankCredit,
    now: dt.datetime,
) -> None:
    """Match a claimed credit against the transfer payments it may pay and apply it."""
    found = await repository.lock_candidates(
        session,
        references=_reference_windows(compact(credit.memo)),
        amount_vnd=credit.amount_vnd,
        fallback_statuses=_FALLBACK_STATUSES,
        agencies=agencies_of_account(settings, credit.account_no),
        credited_at=credit.credited_at,
    )
    expected = [e for e in (_expected(settings, p) for p in found) if e is not None]
    match = match_credit(
        Credit(
            bank_txn_id=credit.bank_txn_id,
            account=credit.account_no,
            amount_vnd=credit.amount_vnd,
            memo=credit.memo,
            credited_at=credit.credited_at,
        ),
        expected,
        # Claimed already: a known bank transaction id never gets this far.
        seen_txn_ids=(),
    )
    payment = next((p for p in found if p.id == match.payment_id), None)
    await _apply_match(session, outbox, settings, credit, match, payment, now)
    credit.outcome = match.outcome
    credit.payment_id = match.payment_id
    await session.flush()


async def _apply_match(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    credit: BankCredit,
    match: Match,
    payment: Payment | None,
    now: dt.datetime,
) -> None:
    if match.outcome is Outcome.wrong_memo or payment is None:
        unit_path, agency = await account_unit(session, settings, credit.account_no)
        await _queue(
            session,
            credit,
            None,
            kind=Outcome.wrong_memo,
            unit_path=unit_path,
            agency_code=agency,
            expected_vnd=None,
            detail=f"credit {credit.bank_txn_id} of {credit.amount_vnd} VND on account "
            f"{credit.account_no} names no single waiting payment: find the dossier or give "
            "the money back",
            at=now,
        )
        return
    if match.outcome is Outcome.matched:
        await _take(session, outbox, settings, credit, payment, now)
        return
    if match.outcome is Outcome.duplicate:
        await _queue(
            session,
            credit,
            payment,
            kind=Outcome.duplicate,
            unit_path=payment.unit_path,
            agency_code=payment.agency_code,
            expected_vnd=0,
            detail=f"credit {credit.bank_txn_id} of {credit.amount_vnd} VND names payment "
            f"{payment.reference}, which is {payment.status} already: give the money back",
            at=now,
        )
        return
    # Over- or underpaid: never counted as paid (payment.md §5); a person refunds the surplus,
    # asks for the balance, or accepts it.
    if allowed(payment.status, PaymentAction.mismatch):  # waiting, or ended unpaid
        payment.received_vnd = credit.amount_vnd
        await payments.advance(
            session,
            outbox,
            payment,
            PaymentAction.mismatch,
            ACTOR,
            now,
            note=f"bank credit {credit.bank_txn_id} of {credit.amount_vnd} VND",
            event_fields={"received_vnd": credit.amount_vnd},
        )
    await _queue(
        session,
        credit,
        payment,
        kind=match.outcome,
        unit_path=payment.unit_path,
        agency_code=payment.agency_code,
        expected_vnd=payment.amount_vnd,
        detail=f"credit {credit.bank_txn_id} of {credit.amount_vnd} VND for payment "
        f"{payment.reference} of {payment.amount_vnd} VND ({match.difference_vnd:+d} VND)",
        at=now,
    )


async def _take(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    credit: BankCredit,
    payment: Payment,
    now: dt.datetime,
) -> None:
    """The credit pays the payment exactly: it succeeds (late when it had ended meanwhile)
    and is receipted. Money for a request another payment settled meanwhile, or that was
    cancelled with its dossier, is never refused: it is proposed for refund."""
    await payments.succeed(
        session,
        outbox,
        settings,
        payment,
        actor=ACTOR,
        paid_at=credit.credited_at,
        at=now,
        strict_receipt=False,
        gateway_txn_no=credit.bank_txn_id if len(credit.bank_txn_id) <= _TXN_NO_MAX else None,
        note=f"bank credit {credit.bank_txn_id}",
    )
    await gateways.propose_late_refund_if_settled(session, payment, now)


async def _queue(
    session: AsyncSession,
    credit: BankCredit,
    payment: Payment | None,
    *,
    kind: str,
    unit_path: str,
    agency_code: str | None,
    expected_vnd: int | None,
    detail: str,
    at: dt.datetime,
) -> None:
    await gateways.raise_exception(
        session,
        payment,
        kind=str(kind),
        source_key=f"bank:{credit.bank_txn_id}",
        unit_path=unit_path,
        agency_code=agency_code,
        expected_vnd=expected_vnd,
        received_vnd=credit.amount_vnd,
        detail=detail,
        at=at,
        credit_id=credit.id,
    )


# --------------------------------------------------------------------------- the notice


def _claimed_txn_id(body: bytes) -> str | None:
    """The transaction id a message claims, for the record only (it may be forged)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("transaction_id") if isinstance(document, dict) else None
    return str(value)[:64] if value is not None else None


async def take_notice(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: dt.datetime,
) -> BankNoticeOut:
    """A bank notice received and answered. This owns its transaction rather than leaving the
    commit to the route: a refused notice is answered with a problem, and the route commits
    nothing when the endpoint raises, yet the record of the refused notice must stay."""
    async with session.begin():
        answer = await receive_notice(session, outbox, settings, body, timestamp, signature, now)
    # Raised after the commit: the record of a refused notice is kept.
    if isinstance(answer, Problem):
        raise answer
    return answer


async def receive_notice(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: dt.datetime,
) -> BankNoticeOut | Problem:
    """Verify → record → parse → claim → match → apply, in the caller's one transaction.

    A refused notice is answered with a problem the caller raises after committing, so the
    record of it stays: a forged notice is kept (signature_valid false) and changes nothing
    else; a signed one that does not parse is kept too, for the bank to be told."""
    payload = {"x_bank_timestamp": timestamp, "x_bank_signature": signature}
    payload |= _raw(body, _RAW_KEPT_NOTICE)
    claimed = _claimed_txn_id(body)
    if not signature_valid(
        _secret(settings), timestamp, signature, body, now, settings.bank_notice_max_skew_s
    ):
        log.warning("bank notice with an invalid signature", bank_txn_id=claimed)
        problem = errors.notice_signature_invalid()
        callbacks.record(
            session,
            "bank_notice",
            payload,
            now,
            reference=claimed,
            signature_valid=False,
            answer=problem.body(None),
            outcome="invalid_signature",
        )
        return problem
    try:
        notice = BankNotice.model_validate_json(body)
    except ValidationError as exc:
        problem = errors.notice_invalid(exc)
        callbacks.record(
            session,
            "bank_notice",
            payload,
            now,
            reference=claimed,
            signature_valid=True,
            answer=problem.body(None),
            outcome="invalid_body",
        )
        return problem
    credit = await apply_credit(session, outbox, settings, notice, "notice", now)
    if credit is None:
        known = await repository.credit_by_txn(session, notice.transaction_id)
        answer = BankNoticeOut(
            outcome=Outcome(known.outcome) if known else None,
            payment_id=known.payment_id if known else None,
            duplicate_delivery=True,
        )
    else:
        answer = BankNoticeOut(outcome=Outcome(credit.outcome), payment_id=credit.payment_id)
    callbacks.record(
        session,
        "bank_notice",
        payload,
        now,
        reference=notice.transaction_id,
        payment_id=answer.payment_id,
        signature_valid=True,
        answer=answer.model_dump(mode="json"),
        outcome="duplicate_delivery" if answer.duplicate_delivery else str(answer.outcome),
    )
    return answer


# --------------------------------------------------------------------------- the statement


async def _fetch_statement(
    settings: PaymentSettings, account_no: str, day: dt.date, timeout_s: float
) -> tuple[bytes, Mapping[str, str]]:
    if not settings.bank_statement_url:
        raise errors.bank_unavailable("no bank statement URL is configured")
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(
                settings.bank_statement_url,
                params={"account_no": account_no, "date": day.isoformat()},
            )
    except httpx.HTTPError as exc:
        log.warning("bank statement not answered", error=type(exc).__name__)
        raise errors.bank_unavailable(f"the bank did not answer ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise errors.bank_unavailable(f"the bank answered HTTP {response.status_code}")
    return response.content, response.headers


def _statement_entries(body: bytes, account_no: str, day: dt.date) -> list[Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise errors.bank_unavailable("the statement is not JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise errors.bank_unavailable("the statement has no list of entries")
    # A signed statement of another account or day must not be applied as this one.
    if str(document.get("account_no")) != account_no or str(document.get("date")) != str(day):
        raise errors.bank_unavailable("the statement is for another account or day")
    return document["entries"]


async def import_statement(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    principal: Principal,
    body: StatementImport,
    now: dt.datetime,
    *,
    timeout_s: float = STATEMENT_TIMEOUT_S,
) -> tuple[int, StatementImportOut]:
    """Fetch one day's statement, verify its signature, record it, and apply every line as a
    notice whose transaction id is new. Lines already known (from their notice or an earlier
    import) are skipped; a transaction id listed twice is one credit. Importing the same
    statement again therefore changes nothing but the record of the import.

    The fetch runs before anything is written or locked; a bank that does not answer or signs
    wrongly leaves no trace but the log (the transaction rolls back with the problem)."""
    require(principal, Act.reconcile)
    if not is_our_account(settings, body.account_no):
        raise errors.not_our_account(body.account_no)
    raw, headers = await _fetch_statement(settings, body.account_no, body.date, timeout_s)
    timestamp, signature = headers.get("X-Bank-Timestamp"), headers.get("X-Bank-Signature")
    if not signature_valid(
        _secret(settings), timestamp, signature, raw, now, settings.bank_notice_max_skew_s
    ):
        log.warning("bank statement with an invalid signature", day=str(body.date))
        raise errors.statement_signature_invalid()
    entries = _statement_entries(raw, body.account_no, body.date)
    bank_bin = body.bank_bin or account_bank_bin(settings, body.account_no)

    # Every new line is claimed before any payment is locked: a notice arriving meanwhile for
    # one of them then waits on the claim, never on a payment this import holds.
    claimed: list[BankCredit] = []
    listed: set[str] = set()
    known = repeated = invalid = 0
    for entry in entries:
        try:
            line = StatementLine.model_validate(entry)
        except ValidationError:
            invalid += 1
            continue
        if line.transaction_id in listed:
            repeated += 1
            continue
        listed.add(line.transaction_id)
        notice = BankNotice(
            transaction_id=line.transaction_id,
            bank_bin=line.bank_bin or bank_bin,
            account_no=line.account_no or body.account_no,
            amount_vnd=line.amount_vnd,
            description=line.description,
            credited_at=line.credited_at,
        )
        credit = await claim(session, notice, "statement", now)
        if credit is None:
            known += 1
        else:
            claimed.append(credit)
    counts = OutcomeCounts()
    # In the statement's order, as if each had arrived alone (match_statement's rule): an
    # earlier exact line pays the payment, a later one for it is a duplicate.
    for credit in claimed:
        await settle(session, outbox, settings, credit, now)
        setattr(counts, credit.outcome, getattr(counts, credit.outcome) + 1)
    items = [credit_out(credit) for credit in claimed]
    summary = StatementImportOut(
        account_no=body.account_no,
        bank_bin=bank_bin,
        date=body.date,
        lines=len(entries),
        new=len(items),
        known=known,
        repeated=repeated,
        invalid=invalid,
        outcomes=counts,
        items=items,
    )
    callbacks.record(
        session,
        "bank_statement",
        {"x_bank_timestamp": timestamp, "x_bank_signature": signature}
        | _raw(raw, _RAW_KEPT_STATEMENT),
        now,
        reference=f"{body.account_no}:{body.date}",
        signature_valid=True,
        answer=summary.model_dump(mode="json", exclude={"items"}),
        outcome="imported",
    )
    return 200, summary


def account_bank_bin(settings: PaymentSettings, account_no: str) -> str:
    """The bank of our account, for lines that do not say it."""
    agencies = agencies_of_account(settings, account_no)
    if agencies.only:
        return payees.payee(settings, sorted(agencies.only)[0]).bank_bin
    return settings.default_bank_bin


# --------------------------------------------------------------------------- reads


def credit_out(credit: BankCredit) -> BankCreditOut:
    outcome = Outcome(credit.outcome)
    return BankCreditOut.model_validate(
        {
            **{c: getattr(credit, c) for c in BankCreditOut.model_fields if hasattr(credit, c)},
            "outcome": outcome,
            "outcome_vi": OUTCOME_LABELS_VI[outcome],
        }
    )


async def list_credits(
    session: AsyncSession,
    principal: Principal,
    *,
    account_no: str | None,
    outcome: Outcome | None,
    cursor: str | None,
    limit: int,
) -> BankCreditPage:
    require(principal, Act.reconcile)
    rows = await repository.list_credits(
        session,
        principal,
        account_no=account_no,
        outcome=outcome,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.CREDIT_ORDER.page(rows, limit, lambda r: (r.received_at, r.id))
    return BankCreditPage(items=[credit_out(c) for c in page], next_cursor=next_cursor)
