"""The VNPay 2.1.0 protocol, pure: the signed pay URL, IPN verification and the answers VNPay
expects, and the querydr/refund checksums. No I/O here; the adapter in ``gateways`` does that.

Free text (order info, references) is folded to ``[A-Za-z0-9 ]`` before signing: the sample
encoders of each language disagree on reserved characters, and ASCII alone hashes the same
everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote_plus

from payment_service.domain.vietqr import fold_ascii

VERSION = "2.1.0"
VN_TZ = dt.timezone(dt.timedelta(hours=7))
_DATE_FORMAT = "%Y%m%d%H%M%S"


def order_info(text: str) -> str:
    """Punctuation becomes a space (a dossier code's dashes stay readable), then ASCII only."""
    return fold_ascii(re.sub(r"[^\w\s]", " ", text), 255)


def gmt7(instant: dt.datetime) -> str:
    """``yyyyMMddHHmmss`` in GMT+7, whatever the server's zone."""
    return instant.astimezone(VN_TZ).strftime(_DATE_FORMAT)


def parse_gmt7(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, _DATE_FORMAT).replace(tzinfo=VN_TZ).astimezone(dt.UTC)


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted, non-empty ``vnp_*`` fields, form-encoded: both the signed text and the query."""
    fields = sorted(
        (k, v)
        for k, v in params.items()
        if k.startswith("vnp_") and k not in ("vnp_SecureHash", "vnp_SecureHashType") and v != ""
    )
    return "&".join(f"{k}={quote_plus(str(v))}" for k, v in fields)


def sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def verify(secret: str, params: Mapping[str, str]) -> bool:
    """Constant-time check of ``vnp_SecureHash`` over the received (decoded) parameters; the
    hex may come in either case."""
    given = params.get("vnp_SecureHash", "")
    expected = sign(secret, canonical_query(params))
    return hmac.compare_digest(given.lower().encode(), expected.encode())


@dataclass(frozen=True)
class PayRequest:
    tmn_code: str
    txn_ref: str
    amount_vnd: int
    order_info: str
    return_url: str
    ip_addr: str
    created_at: dt.datetime
    expires_at: dt.datetime
    locale: str = "vn"
    bank_code: str | None = None
    order_type: str = "billpayment"


def pay_params(request: PayRequest) -> dict[str, str]:
    params = {
        "vnp_Version": VERSION,
        "vnp_Command": "pay",
        "vnp_TmnCode": request.tmn_code,
        "vnp_Amount": str(request.amount_vnd * 100),
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": request.txn_ref,
        "vnp_OrderInfo": order_info(request.order_info),
        "vnp_OrderType": request.order_type,
        "vnp_Locale": request.locale,
        "vnp_ReturnUrl": request.return_url,
        "vnp_IpAddr": request.ip_addr,
        "vnp_CreateDate": gmt7(request.created_at),
        "vnp_ExpireDate": gmt7(request.expires_at),
    }
    if request.bank_code:
        params["vnp_BankCode"] = request.bank_code
    return params


def pay_url(base_url: str, secret: str, request: PayRequest) -> str:
    query = canonical_query(pay_params(request))
    return f"{base_url}?{query}&vnp_SecureHash={sign(secret, query)}"


# --------------------------------------------------------------------------- IPN answers

RSP_MESSAGES = {
    "00": "Confirm Success",
    "01": "Order not found",
    "02": "Order already confirmed",
    "04": "Invalid amount",
    "97": "Invalid signature",
    "99": "Unknown error",
}


def ipn_answer(code: str) -> dict[str, str]:
    """The body VNPay reads (always with HTTP 200): 00 and 02 end its retries."""
    return {"RspCode": code, "Message": RSP_MESSAGES[code]}


@dataclass(frozen=True)
class GatewayResult:
    """What an IPN or a querydr answer says happened to a payment."""

    txn_ref: str
    amount_vnd: int | None
    response_code: str
    transaction_status: str
    transaction_no: str | None
    bank_code: str | None
    paid_at: dt.datetime | None

    @property
    def succeeded(self) -> bool:
        # Both must say 00: a response code alone has been seen "approved" on reversed money.
        return self.response_code == "00" and self.transaction_status == "00"

    @property
    def still_open(self) -> bool:
        """The customer has not finished (querydr: 01 not completed)."""
        return self.transaction_status == "01"


def _amount(raw: str | None) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    value = int(raw)
    # Converted only after the signature was checked over the raw text.
    return value // 100 if value % 100 == 0 else None


def result_from_params(params: Mapping[str, str]) -> GatewayResult:
    paid_at = None
    raw_date = params.get("vnp_PayDate")
    if raw_date:
        try:
            paid_at = parse_gmt7(raw_date)
        except ValueError:
            paid_at = None
    transaction_no = params.get("vnp_TransactionNo") or None
    return GatewayResult(
        txn_ref=params.get("vnp_TxnRef", ""),
        amount_vnd=_amount(params.get("vnp_Amount")),
        response_code=params.get("vnp_ResponseCode", ""),
        transaction_status=params.get("vnp_TransactionStatus", ""),
        transaction_no=None if transaction_no == "0" else transaction_no,
        bank_code=params.get("vnp_BankCode") or None,
        paid_at=paid_at,
    )


# --------------------------------------------------------------------------- querydr / refund

QUERYDR_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
QUERYDR_RESPONSE_FIELDS = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
REFUND_RESPONSE_FIELDS = QUERYDR_RESPONSE_FIELDS[:-2]


def pipe_checksum(secret: str, message: Mapping[str, object], fields: tuple[str, ...]) -> str:
    text = "|".join("" if message.get(f) is None else str(message.get(f)) for f in fields)
    return sign(secret, text)


def verify_pipe(secret: str, message: Mapping[str, object], fields: tuple[str, ...]) -> bool:
    given = str(message.get("vnp_SecureHash", ""))
    return hmac.compare_digest(
        given.lower().encode(), pipe_checksum(secret, message, fields).encode()
    )
