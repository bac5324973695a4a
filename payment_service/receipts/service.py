"""Issuing, cancelling and printing e-receipts (biên lai điện tử)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import require
from payment_service.common.exception_items import raise_exception
from payment_service.db.models import Dossier, Payment, Receipt, ReceiptRange
from payment_service.domain import payees
from payment_service.domain.authority import Act
from payment_service.domain.receipt_document import (
    METHOD_LABELS_VI,
    SYSTEM_COLLECTOR,
    ReceiptData,
    ReceiptLine,
    mask_id_number,
    receipt_pdf,
)
from payment_service.receipts import errors, repository
from payment_service.receipts.schemas import (
    RangeCreate,
    RangeOut,
    RangePage,
    ReceiptOut,
    ReceiptPage,
    ReceiptVerification,
)
from payment_service.reconciliation.service import agency_unit_path
from payment_service.settings import PaymentSettings
from shared.auth import Principal
from shared.errors import forbidden
from shared.events import ReceiptIssued
from shared.messaging.outbox import Outbox

# Receipt lines print the kind as the law names it.
KIND_LABELS = {"fee": "Phí", "charge": "Lệ phí", "financial_obligation": "Nghĩa vụ tài chính"}
DEFAULT_RANGE = (1, 9_999_999)


async def ensure_default_range(
    session: AsyncSession, settings: PaymentSettings, agency_code: str, at: dt.datetime
) -> None:
    """An agency that never registered a range gets the form and symbol of its settings over
    the whole number space; one that did register is held to what it registered."""
    if await repository.has_any_range(session, agency_code):
        return
    payee = payees.payee(settings, agency_code)
    await repository.add_range(
        session,
        {
            "id": uuid.uuid4(),
            "agency_code": agency_code,
            "form_code": payee.receipt_form_code,
            "symbol": f"{payee.receipt_symbol}-{agency_code}"[:20],
            "first_number": DEFAULT_RANGE[0],
            "last_number": DEFAULT_RANGE[1],
            "next_number": DEFAULT_RANGE[0],
            "active": True,
            "registered_by": "system",
            "registered_at": at,
        },
    )


def _payer(payment: Payment, dossier: Dossier | None) -> tuple[str, str]:
    if payment.payer:
        return str(payment.payer.get("name") or ""), str(payment.payer.get("id_masked") or "")
    return (dossier.applicant_name if dossier else ""), ""


def receipt_data(
    settings: PaymentSettings,
    payment: Payment,
    dossier: Dossier | None,
    lines: list[dict[str, Any]],
    form_code: str,
    symbol: str,
    number: int,
    issued_at: dt.datetime,
    receipt_id: uuid.UUID,
) -> ReceiptData:
    payer_name, payer_id = _payer(payment, dossier)
    printed = tuple(
        ReceiptLine(
            KIND_LABELS.get(str(line["kind"]), "Phí"), str(line["name"]), int(line["amount_vnd"])
        )
        for line in lines
    )
    return ReceiptData(
        form_code=form_code,
        symbol=symbol,
        number=number,
        issued_at=issued_at,
        agency_name=payees.payee(settings, payment.agency_code).name,
        agency_code=payment.agency_code,
        payer_name=payer_name,
        payer_id_masked=payer_id,
        dossier_code=payment.dossier_code,
        procedure_name=dossier.procedure_name if dossier else "",
        lines=printed,
        total_vnd=sum(line.amount_vnd for line in printed),
        method_label=METHOD_LABELS_VI.get(payment.method, payment.method),
        collected_by=payment.recorded_by or SYSTEM_COLLECTOR,
        verify_url=f"{settings.public_base_url}/v1/receipts/{receipt_id}/verify",
    )


async def issue(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    payment: Payment,
    lines: list[dict[str, Any]],
    at: dt.datetime,
    *,
    strict: bool,
) -> Receipt | None:
    """Number and store the receipt of a paid payment, in the caller's transaction.

    ``strict`` (an officer at the desk) fails the whole collection with a problem when no
    number is left. Money that arrived through a gateway or a bank is never refused for want of
    a number: the payment is recorded, an exception asks finance for a new range, and the
    receipt is issued when one is registered."""
    existing = await repository.receipt_of_payment(session, payment.id)
    if existing is not None:
        return existing
    await ensure_default_range(session, settings, payment.agency_code, at)
    taken = await repository.take_number(session, payment.agency_code)
    if taken is None:
        if strict:
            raise errors.range_exhausted(payment.agency_code)
        await raise_exception(
            session,
            payment,
            kind="receipt_pending",
            source_key=f"receipt:{payment.id}",
            unit_path=payment.unit_path,
            agency_code=payment.agency_code,
            expected_vnd=payment.amount_vnd,
            received_vnd=payment.received_vnd,
            detail="no receipt number left; register a new range",
            at=at,
        )
        return None
    number_range, number = taken
    dossier = await session.get(Dossier, payment.dossier_id)
    receipt_id = uuid.uuid4()
    data = receipt_data(
        settings,
        payment,
        dossier,
        lines,
        number_range.form_code,
        number_range.symbol,
        number,
        at,
        receipt_id,
    )
    receipt = Receipt(
        id=receipt_id,
        payment_id=payment.id,
        range_id=number_range.id,
        agency_code=payment.agency_code,
        unit_path=payment.unit_path,
        dossier_code=payment.dossier_code,
        form_code=number_range.form_code,
        symbol=number_range.symbol,
        number=number,
        amount_vnd=data.total_vnd,
        content=stored_content(data),
        status="issued",
        issued_at=at,
    )
    session.add(receipt)
    await outbox.add(
        session,
        ReceiptIssued(
            receipt_id=receipt_id,
            payment_id=payment.id,
            dossier_id=payment.dossier_id,
            dossier_code=payment.dossier_code,
            unit_path=payment.unit_path,
            form_code=receipt.form_code,
            symbol=receipt.symbol,
            number=number,
            amount_vnd=receipt.amount_vnd,
            issued_at=at,
        ),
        subject=payment.dossier_code,
    )
    return receipt


def stored_content(data: ReceiptData) -> dict[str, Any]:
    content = dataclasses.asdict(data)
    content["issued_at"] = data.issued_at.isoformat()
    content["lines"] = [list(line) for line in data.lines]
    return content


def data_of(receipt: Receipt) -> ReceiptData:
    content = dict(receipt.content)
    content["issued_at"] = dt.datetime.fromisoformat(content["issued_at"])
    content["lines"] = tuple(ReceiptLine(*line) for line in content["lines"])
    content["status"] = "cancelled" if receipt.status == "cancelled" else "issued"
    return ReceiptData(**content)


def pdf_of(receipt: Receipt) -> bytes:
    return receipt_pdf(data_of(receipt))


def masked(id_number: str) -> str:
    return mask_id_number(id_number)


def cancel(receipt: Receipt, by: str, reason: str, at: dt.datetime) -> None:
    """A cancelled number stays taken: the tax report lists it among the cancelled ones."""
    if receipt.status == "cancelled":
        raise errors.already_cancelled()
    receipt.status = "cancelled"
    receipt.cancelled_at = at
    receipt.cancelled_by = by
    receipt.cancel_reason = reason


# --------------------------------------------------------------------------- API side


def receipt_out(receipt: Receipt) -> ReceiptOut:
    return ReceiptOut.model_validate(
        {
            **{c: getattr(receipt, c) for c in ReceiptOut.model_fields if hasattr(receipt, c)},
            "number_text": f"{receipt.number:07d}",
        }
    )


def range_out(row: ReceiptRange) -> RangeOut:
    return RangeOut.model_validate(
        {
            **{c: getattr(row, c) for c in RangeOut.model_fields if hasattr(row, c)},
            "remaining": max(row.last_number - row.next_number + 1, 0),
        }
    )


async def read(session: AsyncSession, principal: Principal, receipt_id: uuid.UUID) -> Receipt:
    require(principal, Act.view)
    receipt = await repository.visible_receipt(session, receipt_id, principal)
    if receipt is None:
        raise errors.receipt_not_found()
    return receipt


async def verify(session: AsyncSession, receipt_id: uuid.UUID) -> ReceiptVerification:
    receipt = await session.get(Receipt, receipt_id)
    if receipt is None:
        raise errors.receipt_not_found()
    return ReceiptVerification(
        valid=receipt.status == "issued",
        form_code=receipt.form_code,
        symbol=receipt.symbol,
        number_text=f"{receipt.number:07d}",
        agency_code=receipt.agency_code,
        dossier_code=receipt.dossier_code,
        amount_vnd=receipt.amount_vnd,
        status=receipt.status,
        issued_at=receipt.issued_at,
    )


async def list_receipts(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_code: str | None,
    agency_code: str | None,
    cursor: str | None,
    limit: int,
) -> ReceiptPage:
    require(principal, Act.view)
    rows = await repository.list_receipts(
        session,
        principal,
        dossier_code=dossier_code,
        agency_code=agency_code,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.RECEIPT_ORDER.page(rows, limit, lambda r: (r.issued_at, r.id))
    return ReceiptPage(items=[receipt_out(r) for r in page], next_cursor=next_cursor)


async def register_range(
    session: AsyncSession, principal: Principal, body: RangeCreate, now: dt.datetime
) -> tuple[int, RangeOut]:
    """A range from the agency's issuance notice (thông báo phát hành); numbers of one form
    code and symbol never overlap, so no number can be issued twice."""
    require(principal, Act.manage_receipts)
    # Only for an agency within the officer's units: a range decides the numbers and symbol
    # every receipt of that agency will carry.
    if not principal.covers(await agency_unit_path(session, body.agency_code)):
        raise forbidden("the agency is outside your units")
    if await repository.overlapping_range(
        session, body.form_code, body.symbol, body.first_number, body.last_number
    ):
        raise errors.range_overlaps()
    row = ReceiptRange(
        id=uuid.uuid4(),
        agency_code=body.agency_code,
        form_code=body.form_code,
        symbol=body.symbol,
        first_number=body.first_number,
        last_number=body.last_number,
        next_number=body.first_number,
        active=True,
        registered_by=principal.sub,
        registered_at=now,
    )
    session.add(row)
    # The stand-in range the system opened before any was registered stops here; the numbers
    # it gave out stay valid.
    await repository.retire_system_ranges(session, body.agency_code)
    await session.flush()
    return 201, range_out(row)


async def list_ranges(
    session: AsyncSession,
    principal: Principal,
    agency_code: str | None,
    *,
    cursor: str | None,
    limit: int,
) -> RangePage:
    require(principal, Act.manage_receipts)
    rows, next_cursor = repository.RANGE_ORDER.page(
        await repository.list_ranges(session, agency_code, cursor, limit),
        limit,
        lambda r: (r.registered_at, r.id),
    )
    return RangePage(items=[range_out(r) for r in rows], next_cursor=next_cursor)
