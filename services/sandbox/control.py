"""The control API, for tests and demos: play the customer, bend the delivery, inspect, inject.

None of it exists at VNPay or at a bank; it lives under ``/_sandbox`` so it cannot be mistaken
for the protocols.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from services.sandbox.bank import Bank, StatementLines
from services.sandbox.clock import parse_day
from services.sandbox.vnpay import AlreadySettled, Gateway, Knobs

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _bank(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


class IpnOptions(BaseModel):
    """How this payment's IPN travels; anything left out follows the global knobs."""

    drop: bool | None = Field(None, description="never send it: the lost IPN")
    duplicates: int | None = Field(None, ge=1, le=50, description="identical IPNs sent at once")
    tamper: bool | None = Field(None, description="corrupt vnp_SecureHash")
    delay_ms: int | None = Field(None, ge=0, le=60_000)
    retries: int | None = Field(None, ge=0, description="default SANDBOX_IPN_RETRIES")


class PayCommand(BaseModel):
    tmn_code: str
    txn_ref: str
    action: Literal["pay", "cancel"] = "pay"
    amount_vnd: int | None = Field(
        None, gt=0, description="report this amount instead of the order's (a mismatch)"
    )
    statement_amount_vnd: int | None = Field(
        None, gt=0, description="list this amount in the day's statement (disagreeing with the IPN)"
    )
    ipn: IpnOptions = Field(default_factory=IpnOptions)


class Reorder(BaseModel):
    hold: bool


class VnpayLine(BaseModel):
    vnp_TxnRef: str
    vnp_TransactionNo: str
    vnp_Amount: int | str = Field(description="×100")
    vnp_PayDate: str = Field(description="yyyyMMddHHmmss GMT+7")
    vnp_TransactionType: str = "01"
    vnp_TransactionStatus: str = "00"


class VnpayLines(BaseModel):
    tmn_code: str
    date: str = Field(description="yyyyMMdd or YYYY-MM-DD, a GMT+7 day")
    lines: list[VnpayLine]


@router.post(
    "/vnpay/pay",
    summary="Pay or cancel a presented order, as the customer would",
    description=(
        "Như khách hàng bấm Thanh toán/Hủy trên trang VNPay (đơn hàng phải đã được mở qua URL "
        "thanh toán). Trả lời sau lượt IPN đầu tiên; các lần gửi lại tiếp tục chạy nền."
    ),
    responses={404: {"description": "order never presented"}, 409: {"description": "settled"}},
)
async def pay(command: PayCommand, request: Request) -> dict[str, Any]:
    gateway = _gateway(request)
    order = gateway.orders.get((command.tmn_code, command.txn_ref))
    if order is None:
        raise HTTPException(404, "no such order: open its pay URL first")
    try:
        gateway.settle(order, command.action, command.amount_vnd)
    except AlreadySettled as exc:
        raise HTTPException(409, f"the order is already {exc}") from exc
    if command.statement_amount_vnd is not None:
        order.statement_amount = command.statement_amount_vnd * 100
    plan = gateway.ipn_plan(**command.ipn.model_dump())
    firsts = await gateway.dispatch_ipn(order, plan)
    return {
        "transaction_no": order.transaction_no,
        "pay_date": order.pay_date,
        "response_code": order.response_code,
        "transaction_status": order.transaction_status,
        "amount": str(order.reported_amount),
        "return_url": gateway.return_location(order),
        "held": firsts is None,
        "dropped": plan.drop,
        "ipn_deliveries": [a.as_dict() for a in firsts or []],
    }


@router.post(
    "/vnpay/reorder",
    summary="Hold IPNs, or release the held ones in reverse order",
    description="hold=true giữ IPN lại trong hàng đợi; hold=false gửi chúng theo thứ tự ngược.",
)
async def reorder(command: Reorder, request: Request) -> dict[str, Any]:
    gateway = _gateway(request)
    if command.hold:
        gateway.hold = True
        return {"hold": True, "held": len(gateway.held), "ipn_deliveries": []}
    sent = await gateway.release()
    return {"hold": False, "held": 0, "ipn_deliveries": [a.as_dict() for a in sent]}


@router.get("/knobs", summary="The global knobs")
async def get_knobs(request: Request) -> Knobs:
    return _gateway(request).knobs


@router.put("/knobs", summary="Replace the global knobs (fields left out take their defaults)")
async def put_knobs(knobs: Knobs, request: Request) -> Knobs:
    _gateway(request).knobs = knobs
    return knobs


@router.post("/reset", summary="Forget every order, IPN, credit, injected line and knob")
async def reset(request: Request) -> dict[str, str]:
    gateway = _gateway(request)
    # Re-sends still running belong to the old state; they must not write into the new one.
    await gateway.background.cancel_all()
    gateway.reset()
    _bank(request).reset()
    return {"status": "reset"}


@router.get("/vnpay/ipns", summary="IPN deliveries made and their answers")
async def ipns(
    request: Request, txn_ref: str | None = None, tmn_code: str | None = None
) -> list[dict[str, Any]]:
    return [
        a.as_dict()
        for a in _gateway(request).ipns
        if (txn_ref is None or a.key == txn_ref)
        and (tmn_code is None or a.extra["tmn_code"] == tmn_code)
    ]


@router.get("/vnpay/transactions/{tmn_code}/{txn_ref}", summary="One order as the gateway has it")
async def transaction(tmn_code: str, txn_ref: str, request: Request) -> dict[str, Any]:
    order = _gateway(request).orders.get((tmn_code, txn_ref))
    if order is None:
        raise HTTPException(404, "no such order")
    return order.as_dict()


@router.post(
    "/vnpay/statement-lines",
    summary="Add lines to a day's VNPay statement",
    description="Thêm dòng vào bảng kê đối soát (giao dịch mồ côi, trùng, lệch tiền) mà không gửi IPN nào.",
)
async def vnpay_statement_lines(command: VnpayLines, request: Request) -> dict[str, Any]:
    gateway = _gateway(request)
    try:
        day = parse_day(command.date)
    except ValueError as exc:
        raise HTTPException(422, f"date: {exc}") from exc
    lines = [{k: str(v) for k, v in line.model_dump().items()} for line in command.lines]
    gateway.injected.setdefault((command.tmn_code, day), []).extend(lines)
    return {"tmn_code": command.tmn_code, "date": day.strftime("%Y%m%d"), "added": lines}


@router.post(
    "/bank/statement-lines",
    summary="Add entries to a day's bank statement",
    description="Thêm dòng vào sao kê ngân hàng (có thể trùng transaction_id) mà không gửi thông báo nào.",
)
async def bank_statement_lines(command: StatementLines, request: Request) -> dict[str, Any]:
    try:
        added = _bank(request).inject(command)
    except ValueError as exc:
        raise HTTPException(422, f"date: {exc}") from exc
    return {"account_no": command.account_no, "added": added}


@router.get("/bank/notices", summary="Credit notices sent and their answers")
async def notices(request: Request, transaction_id: str | None = None) -> list[dict[str, Any]]:
    return [
        a.as_dict()
        for a in _bank(request).notices
        if transaction_id is None or a.key == transaction_id
    ]
