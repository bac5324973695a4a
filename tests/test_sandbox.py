"""The payment sandbox as a real process: its VNPay gateway and its bank, against a receiver
standing where our payment service would (the IPN URL, the credit-notice URL).

The signatures are checked here with the test's own few lines of each recipe, not with the
sandbox's code, so the two must agree on the protocol rather than on an implementation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote_plus, urlsplit

import httpx
import pytest

from services.infra import free_port
from services.processes import ServiceProcess
from services.stack import SANDBOX
from tests.conftest import TEST_DATA
from tests.support import PIPELINE_WAIT_S

T = TypeVar("T")

TMN = "MOTCUATEST"
SECRET = secrets.token_hex(32)
OTHER_TMN = "OTHERTMN"
OTHER_SECRET = secrets.token_hex(32)
BANK_SECRET = secrets.token_hex(32)
RETRIES = 3
INTERVAL_S = 0.2
VN = dt.timezone(dt.timedelta(hours=7))
RETURN_URL = "http://127.0.0.1:9/v1/gateways/vnpay/return"


# -- the recipes, written out once more -----------------------------------------------------------


def vnp_hash(params: dict[str, str], secret: str) -> str:
    data = "&".join(
        f"{k}={quote_plus(v)}"
        for k, v in sorted(params.items())
        if k.startswith("vnp_") and k not in ("vnp_SecureHash", "vnp_SecureHashType") and v
    )
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def valid_vnp(params: dict[str, str], secret: str = SECRET) -> bool:
    return hmac.compare_digest(vnp_hash(params, secret), params.get("vnp_SecureHash", "").lower())


def pipe_hash(values: list[str], secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), "|".join(values).encode(), hashlib.sha512).hexdigest()


def bank_valid(headers: dict[str, str], body: bytes) -> bool:
    message = headers["x-bank-timestamp"].encode() + b"." + body
    expected = hmac.new(BANK_SECRET.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-bank-signature"])


def vn_now() -> dt.datetime:
    return dt.datetime.now(VN)


def vnp_time(moment: dt.datetime) -> str:
    return moment.astimezone(VN).strftime("%Y%m%d%H%M%S")


def until(probe: Callable[[], T], timeout: float = PIPELINE_WAIT_S) -> T:
    deadline = time.monotonic() + timeout
    last = probe()
    while not last and time.monotonic() < deadline:
        time.sleep(0.05)
        last = probe()
    assert last, f"not within {timeout}s: {last!r}"
    return last


# -- the receiver: our payment service's place ------------------------------------------------------


@dataclass
class Received:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    received: list[Received] = field(default_factory=list)
    # Scripted IPN answers per TxnRef, used up in order; then "00" (or "97" for a bad hash).
    ipn_script: dict[str, list[str]] = field(default_factory=dict)
    # Scripted HTTP statuses for credit notices per transaction id; then 200.
    notice_script: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ipns(self, txn_ref: str) -> list[dict[str, str]]:
        with self.lock:
            return [
                r.params
                for r in self.received
                if r.path == "/ipn" and r.params.get("vnp_TxnRef") == txn_ref
            ]

    def notices(self, transaction_id: str) -> list[Received]:
        with self.lock:
            return [
                r
                for r in self.received
                if r.path == "/notices" and json.loads(r.body)["transaction_id"] == transaction_id
            ]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass  # the test asserts on what arrived; stderr lines would only be noise

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            with receiver.lock:
                receiver.received.append(
                    Received(
                        parts.path, params, {k.lower(): v for k, v in self.headers.items()}, b""
                    )
                )
                script = receiver.ipn_script.get(params.get("vnp_TxnRef", ""), [])
                scripted = script.pop(0) if script else None
            code = scripted or ("00" if valid_vnp(params) else "97")
            self._answer(200, {"RspCode": code, "Message": f"answer {code}"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(parts.path, {}, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                script = receiver.notice_script.get(json.loads(body).get("transaction_id"), [])
                status = script.pop(0) if script else 200
            self._answer(status, {"ok": status == 200})

    return Handler


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    port = free_port()
    receiver = Receiver(port)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def sandbox(receiver: Receiver) -> Iterator[str]:
    port = free_port()
    env = {
        "SANDBOX_HTTP_PORT": str(port),
        "SANDBOX_VNPAY_TERMINALS": json.dumps({TMN: SECRET, OTHER_TMN: OTHER_SECRET}),
        "SANDBOX_IPN_URL": f"{receiver.url}/ipn",
        "SANDBOX_IPN_RETRIES": str(RETRIES),
        "SANDBOX_IPN_RETRY_INTERVAL_S": str(INTERVAL_S),
        "SANDBOX_BANK_NOTICE_URL": f"{receiver.url}/notices",
        "SANDBOX_BANK_SECRET": BANK_SECRET,
        "SANDBOX_BANK_NOTICE_RETRIES": str(RETRIES),
    }
    process = ServiceProcess(SANDBOX, port, env, TEST_DATA / "logs-sandbox" / "sandbox.log")
    process.start()
    try:
        process.wait_ready(30)
        yield process.url
    finally:
        process.stop()


@pytest.fixture
def client(sandbox: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox, timeout=15) as client:
        yield client


# -- building requests as a merchant would ----------------------------------------------------------


def new_ref() -> str:
    return f"HS{uuid.uuid4().hex[:12].upper()}"


def pay_params(
    txn_ref: str,
    amount_vnd: int = 50_000,
    *,
    created: dt.datetime | None = None,
    expires_in: dt.timedelta = dt.timedelta(minutes=15),
    tmn: str = TMN,
    **overrides: str,
) -> dict[str, str]:
    created = created or vn_now()
    return {
        "vnp_Version": "2.1.0",
        "vnp_Command": "pay",
        "vnp_TmnCode": tmn,
        "vnp_Amount": str(amount_vnd * 100),
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": txn_ref,
        "vnp_OrderInfo": f"Nop le phi ho so {txn_ref}",
        "vnp_OrderType": "billpayment",
        "vnp_Locale": "vn",
        "vnp_ReturnUrl": RETURN_URL,
        "vnp_IpAddr": "203.0.113.7",
        "vnp_CreateDate": vnp_time(created),
        "vnp_ExpireDate": vnp_time(created + expires_in),
        **overrides,
    }


def pay_url(params: dict[str, str], secret: str = SECRET) -> str:
    query = "&".join(f"{k}={quote_plus(v)}" for k, v in sorted(params.items()))
    return f"/paymentv2/vpcpay.html?{query}&vnp_SecureHash={vnp_hash(params, secret)}"


def present(client: httpx.Client, txn_ref: str, **kwargs: Any) -> dict[str, str]:
    params = pay_params(txn_ref, **kwargs)
    page = client.get(pay_url(params))
    assert page.status_code == 200, page.text
    return params


def control_pay(client: httpx.Client, txn_ref: str, **body: Any) -> dict[str, Any]:
    r = client.post("/_sandbox/vnpay/pay", json={"tmn_code": TMN, "txn_ref": txn_ref, **body})
    assert r.status_code == 200, r.text
    return r.json()


QUERYDR = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
]
REFUND = [
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
]
QUERYDR_ANSWER = [
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
]
REFUND_ANSWER = QUERYDR_ANSWER[:-2]


def querydr(
    client: httpx.Client,
    order: dict[str, str],
    *,
    request_id: str | None = None,
    secret: str = SECRET,
    **over: str,
) -> dict[str, str]:
    fields = {
        "vnp_RequestId": request_id or uuid.uuid4().hex,
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": order["vnp_TmnCode"],
        "vnp_TxnRef": order["vnp_TxnRef"],
        "vnp_TransactionDate": order["vnp_CreateDate"],
        "vnp_CreateDate": vnp_time(vn_now()),
        "vnp_IpAddr": "10.0.0.3",
        "vnp_OrderInfo": f"Truy van {order['vnp_TxnRef']}",
        **over,
    }
    fields.setdefault("vnp_SecureHash", pipe_hash([fields[f] for f in QUERYDR], secret))
    answer = client.post("/merchant_webapi/api/transaction", json=fields)
    assert answer.status_code == 200
    return answer.json()


def refund(
    client: httpx.Client,
    order: dict[str, str],
    amount_vnd: int,
    kind: str,
    *,
    request_id: str | None = None,
    **over: str,
) -> dict[str, str]:
    fields = {
        "vnp_RequestId": request_id or uuid.uuid4().hex,
        "vnp_Version": "2.1.0",
        "vnp_Command": "refund",
        "vnp_TmnCode": order["vnp_TmnCode"],
        "vnp_TransactionType": kind,
        "vnp_TxnRef": order["vnp_TxnRef"],
        "vnp_Amount": str(amount_vnd * 100),
        "vnp_TransactionNo": "0",
        "vnp_TransactionDate": order["vnp_CreateDate"],
        "vnp_CreateBy": "ketoan.00070",
        "vnp_CreateDate": vnp_time(vn_now()),
        "vnp_IpAddr": "10.0.0.3",
        "vnp_OrderInfo": f"Hoan tien {order['vnp_TxnRef']}",
        **over,
    }
    fields.setdefault("vnp_SecureHash", pipe_hash([fields[f] for f in REFUND]))
    answer = client.post("/merchant_webapi/api/transaction", json=fields)
    assert answer.status_code == 200
    return answer.json()


def answer_signed(answer: dict[str, str], shape: list[str]) -> bool:
    expected = pipe_hash([answer[f] for f in shape])
    return hmac.compare_digest(expected, answer["vnp_SecureHash"])


# -- the pay page -----------------------------------------------------------------------------------


def test_health_readiness_and_docs(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["terminals"] == sorted([TMN, OTHER_TMN])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_pay_url_with_a_good_signature_shows_the_order(client: httpx.Client) -> None:
    ref = new_ref()
    params = pay_params(ref, 50_000)
    page = client.get(pay_url(params))
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert ref in page.text and "50.000 VND" in page.text
    assert 'action="/paymentv2/confirm"' in page.text
    assert 'value="pay"' in page.text and 'value="cancel"' in page.text
    # Hex case does not matter, as one known merchant port upper-cases it.
    upper = pay_url(params).replace(vnp_hash(params, SECRET), vnp_hash(params, SECRET).upper())
    assert client.get(upper).status_code == 200
    order = client.get(f"/_sandbox/vnpay/transactions/{TMN}/{ref}").json()
    assert order["status"] == "presented" and order["amount"] == 5_000_000


def test_pay_url_with_a_bad_signature_is_refused(client: httpx.Client) -> None:
    params = pay_params(new_ref())
    wrong_secret = client.get(pay_url(params, secret=OTHER_SECRET))
    assert wrong_secret.status_code == 400
    assert "Sai chữ ký" in wrong_secret.text and "70" in wrong_secret.text
    # Changed after signing: the amount a tampering customer would lower.
    url = pay_url(params).replace("vnp_Amount=5000000", "vnp_Amount=100")
    assert client.get(url).status_code == 400
    unknown = client.get(pay_url({**params, "vnp_TmnCode": "NOSUCHTM"}))
    assert unknown.status_code == 400 and "70" in unknown.text
    # Signed correctly but not VNPay 2.1.0: a format error, code 03.
    old = client.get(pay_url({**params, "vnp_Version": "2.0.1"}))
    assert old.status_code == 400 and "03" in old.text and "vnp_Version" in old.text
    assert (
        client.get(f"/_sandbox/vnpay/transactions/{TMN}/{params['vnp_TxnRef']}").status_code == 404
    )


def test_the_same_order_presented_twice_keeps_the_first(client: httpx.Client) -> None:
    ref = new_ref()
    present(client, ref, amount_vnd=50_000)
    present(client, ref, amount_vnd=10_000)
    order = client.get(f"/_sandbox/vnpay/transactions/{TMN}/{ref}").json()
    assert order["amount"] == 5_000_000


# -- paying, and the IPN ----------------------------------------------------------------------------


def test_customer_pays_returns_signed_result_and_ipn_arrives(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    present(client, ref, amount_vnd=75_000)
    confirm = client.post(
        "/paymentv2/confirm", data={"tmn_code": TMN, "txn_ref": ref, "action": "pay"}
    )
    assert confirm.status_code == 302
    location = confirm.headers["location"]
    assert location.startswith(f"{RETURN_URL}?")
    returned = dict(parse_qsl(urlsplit(location).query))
    assert valid_vnp(returned)
    assert returned["vnp_ResponseCode"] == "00" and returned["vnp_TransactionStatus"] == "00"

    (ipn,) = until(lambda: receiver.ipns(ref))
    assert valid_vnp(ipn)
    assert ipn == returned
    assert ipn["vnp_Amount"] == "7500000" and ipn["vnp_TmnCode"] == TMN
    assert len(ipn["vnp_TransactionNo"]) == 8 and ipn["vnp_TransactionNo"].isdigit()
    assert ipn["vnp_BankCode"] == "NCB" and ipn["vnp_CardType"] == "ATM" and ipn["vnp_BankTranNo"]
    paid_at = dt.datetime.strptime(ipn["vnp_PayDate"], "%Y%m%d%H%M%S").replace(tzinfo=VN)
    assert abs((paid_at - vn_now()).total_seconds()) < 60
    # Clicking again does not pay twice: the same result, no new IPN.
    again = client.post(
        "/paymentv2/confirm", data={"tmn_code": TMN, "txn_ref": ref, "action": "cancel"}
    )
    assert again.headers["location"] == location
    time.sleep(0.3)
    assert len(receiver.ipns(ref)) == 1


def test_control_pay_answers_after_the_ipn_was_answered(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    present(client, ref)
    result = control_pay(client, ref)
    assert result["response_code"] == "00" and len(result["transaction_no"]) == 8
    (delivery,) = result["ipn_deliveries"]
    assert delivery["answer"] == {"RspCode": "00", "Message": "answer 00"} and delivery["final"]
    (ipn,) = receiver.ipns(ref)
    assert valid_vnp(ipn) and ipn["vnp_TransactionNo"] == result["transaction_no"]
    assert ipn["vnp_ResponseCode"] == "00" and ipn["vnp_TransactionStatus"] == "00"
    assert control_pay_status(client, ref) == 409


def control_pay_status(client: httpx.Client, ref: str) -> int:
    return client.post("/_sandbox/vnpay/pay", json={"tmn_code": TMN, "txn_ref": ref}).status_code


def test_cancel_reports_24_and_no_transaction(client: httpx.Client, receiver: Receiver) -> None:
    ref = new_ref()
    present(client, ref)
    result = control_pay(client, ref, action="cancel")
    assert result["response_code"] == "24"
    (ipn,) = receiver.ipns(ref)
    assert valid_vnp(ipn)
    assert (ipn["vnp_ResponseCode"], ipn["vnp_TransactionStatus"], ipn["vnp_TransactionNo"]) == (
        "24",
        "02",
        "0",
    )


def test_three_duplicates_arrive_as_three_identical_ipns(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    present(client, ref)
    result = control_pay(client, ref, ipn={"duplicates": 3})
    assert len(result["ipn_deliveries"]) == 3
    ipns = receiver.ipns(ref)
    assert len(ipns) == 3 and all(i == ipns[0] for i in ipns) and valid_vnp(ipns[0])


def test_a_tampered_ipn_carries_an_invalid_signature(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    present(client, ref)
    result = control_pay(client, ref, ipn={"tamper": True, "retries": 0})
    assert result["ipn_deliveries"][0]["answer"]["RspCode"] == "97"
    (ipn,) = receiver.ipns(ref)
    assert not valid_vnp(ipn)
    assert len(ipn["vnp_SecureHash"]) == 128  # well formed, only wrong


def test_a_dropped_ipn_never_arrives_but_the_payment_happened(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    order = present(client, ref)
    result = control_pay(client, ref, ipn={"drop": True})
    assert result["dropped"] and result["ipn_deliveries"] == []
    time.sleep(RETRIES * INTERVAL_S + 0.3)
    assert receiver.ipns(ref) == []
    assert client.get("/_sandbox/vnpay/ipns", params={"txn_ref": ref}).json() == []
    found = querydr(client, order)
    assert (found["vnp_ResponseCode"], found["vnp_TransactionStatus"]) == ("00", "00")


def test_ipn_is_resent_until_answered_00(client: httpx.Client, receiver: Receiver) -> None:
    ref = new_ref()
    present(client, ref)
    receiver.ipn_script[ref] = ["99", "01"]
    result = control_pay(client, ref)
    assert result["ipn_deliveries"][0]["answer"]["RspCode"] == "99"
    until(lambda: len(receiver.ipns(ref)) == 3)
    time.sleep(INTERVAL_S * 3)
    assert len(receiver.ipns(ref)) == 3  # 00 is final: nothing after it
    journal = client.get("/_sandbox/vnpay/ipns", params={"txn_ref": ref}).json()
    assert [(d["attempt"], d["answer"]["RspCode"], d["final"]) for d in journal] == [
        (1, "99", False),
        (2, "01", False),
        (3, "00", True),
    ]


def test_ipn_retries_give_up_after_the_configured_count(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    present(client, ref)
    receiver.ipn_script[ref] = ["99"] * 10
    control_pay(client, ref)
    until(lambda: len(receiver.ipns(ref)) == 1 + RETRIES)
    time.sleep(INTERVAL_S * 3)
    assert len(receiver.ipns(ref)) == 1 + RETRIES


def test_02_already_confirmed_is_final_too(client: httpx.Client, receiver: Receiver) -> None:
    ref = new_ref()
    present(client, ref)
    receiver.ipn_script[ref] = ["02"]
    control_pay(client, ref)
    time.sleep(INTERVAL_S * 3)
    assert len(receiver.ipns(ref)) == 1


def test_an_amount_override_is_what_the_gateway_reports(
    client: httpx.Client, receiver: Receiver
) -> None:
    ref = new_ref()
    order = present(client, ref, amount_vnd=50_000)
    control_pay(client, ref, amount_vnd=40_000)
    (ipn,) = receiver.ipns(ref)
    assert valid_vnp(ipn) and ipn["vnp_Amount"] == "4000000"
    assert querydr(client, order)["vnp_Amount"] == "4000000"


def test_paying_after_expiry_gives_11_unless_expiry_is_ignored(client: httpx.Client) -> None:
    late = dict(created=vn_now() - dt.timedelta(minutes=30), expires_in=dt.timedelta(minutes=15))
    expired = new_ref()
    present(client, expired, **late)
    result = control_pay(client, expired)
    assert (result["response_code"], result["transaction_status"]) == ("11", "02")
    try:
        knobs = client.put("/_sandbox/knobs", json={"honour_expiry": False})
        assert knobs.json()["honour_expiry"] is False
        tolerated = new_ref()
        present(client, tolerated, **late)
        assert control_pay(client, tolerated)["response_code"] == "00"
    finally:
        client.put("/_sandbox/knobs", json={})
    assert client.get("/_sandbox/knobs").json()["honour_expiry"] is True


def test_held_ipns_are_released_in_reverse_order(client: httpx.Client, receiver: Receiver) -> None:
    first, second = new_ref(), new_ref()
    present(client, first)
    present(client, second)
    assert client.post("/_sandbox/vnpay/reorder", json={"hold": True}).json()["hold"] is True
    try:
        assert control_pay(client, first)["held"] is True
        assert control_pay(client, second)["held"] is True
        time.sleep(0.2)
        assert receiver.ipns(first) == [] and receiver.ipns(second) == []
    finally:
        released = client.post("/_sandbox/vnpay/reorder", json={"hold": False}).json()
    assert [d["key"] for d in released["ipn_deliveries"]] == [second, first]
    with receiver.lock:
        arrived = [r.params["vnp_TxnRef"] for r in receiver.received if r.path == "/ipn"]
    assert arrived.index(second) < arrived.index(first)


# -- querydr and refund -----------------------------------------------------------------------------


def test_querydr_answers_each_state_with_a_signed_response(client: httpx.Client) -> None:
    ref = new_ref()
    order = present(client, ref, amount_vnd=30_000)
    unpaid = querydr(client, order)
    assert answer_signed(unpaid, QUERYDR_ANSWER)
    assert (unpaid["vnp_ResponseCode"], unpaid["vnp_TransactionStatus"]) == ("00", "01")

    paid = control_pay(client, ref)
    found = querydr(client, order)
    assert answer_signed(found, QUERYDR_ANSWER)
    assert (found["vnp_ResponseCode"], found["vnp_TransactionStatus"]) == ("00", "00")
    assert found["vnp_TransactionNo"] == paid["transaction_no"]
    assert found["vnp_PayDate"] == paid["pay_date"] and found["vnp_Amount"] == "3000000"
    assert found["vnp_TxnRef"] == ref and found["vnp_TransactionType"] == "01"

    cancelled_ref = new_ref()
    cancelled = present(client, cancelled_ref)
    control_pay(client, cancelled_ref, action="cancel")
    gone = querydr(client, cancelled)
    assert (gone["vnp_ResponseCode"], gone["vnp_TransactionStatus"]) == ("00", "02")


def test_querydr_error_codes(client: httpx.Client) -> None:
    order = present(client, new_ref())
    bad = querydr(client, order, vnp_SecureHash="ab" * 64)
    assert bad["vnp_ResponseCode"] == "97" and answer_signed(bad, QUERYDR_ANSWER)
    unknown = querydr(client, {**order, "vnp_TxnRef": new_ref()})
    assert unknown["vnp_ResponseCode"] == "91"
    # TxnRef is unique only within a day: the wrong pay date does not find it.
    wrong_day = querydr(client, {**order, "vnp_CreateDate": "20200101000000"})
    assert wrong_day["vnp_ResponseCode"] == "91"
    request_id = uuid.uuid4().hex
    assert querydr(client, order, request_id=request_id)["vnp_ResponseCode"] == "00"
    assert querydr(client, order, request_id=request_id)["vnp_ResponseCode"] == "94"
    stranger = querydr(client, {**order, "vnp_TmnCode": "NOSUCHTM"})
    assert stranger["vnp_ResponseCode"] == "02"
    # Another terminal, rightly signed, does not see this terminal's order.
    other = querydr(client, {**order, "vnp_TmnCode": OTHER_TMN}, secret=OTHER_SECRET)
    assert other["vnp_ResponseCode"] == "91"
    assert querydr(client, order, vnp_RequestId="not-alnum!")["vnp_ResponseCode"] == "03"
    garbled = client.post(
        "/merchant_webapi/api/transaction",
        content=b"not json",
        headers={"Content-Type": "application/json"},
    )
    assert garbled.status_code == 200 and garbled.json()["vnp_ResponseCode"] == "03"


def test_refunds_partial_then_full_and_their_codes(client: httpx.Client) -> None:
    ref = new_ref()
    order = present(client, ref, amount_vnd=100_000)
    assert refund(client, order, 10_000, "03")["vnp_ResponseCode"] == "95"  # not paid yet
    paid = control_pay(client, ref)

    partial = refund(client, order, 30_000, "03")
    assert answer_signed(partial, REFUND_ANSWER)
    assert (partial["vnp_ResponseCode"], partial["vnp_TransactionStatus"]) == ("00", "05")
    assert partial["vnp_Amount"] == "3000000" and partial["vnp_TransactionType"] == "03"
    assert partial["vnp_TransactionNo"] != paid["transaction_no"]

    too_much = refund(client, order, 80_000, "03")
    assert too_much["vnp_ResponseCode"] == "99" and "exceeds" in too_much["vnp_Message"]
    assert refund(client, order, 10_000, "02")["vnp_ResponseCode"] == "99"  # full ≠ what is left
    assert refund(client, order, 1_000, "03", vnp_SecureHash="00")["vnp_ResponseCode"] == "97"
    assert (
        refund(client, {**order, "vnp_TxnRef": new_ref()}, 1_000, "03")["vnp_ResponseCode"] == "91"
    )
    assert (
        refund(client, order, 1_000, "03", vnp_TransactionNo="12345678")["vnp_ResponseCode"] == "91"
    )

    request_id = uuid.uuid4().hex
    rest = refund(
        client, order, 70_000, "02", request_id=request_id, vnp_TransactionNo=paid["transaction_no"]
    )
    assert rest["vnp_ResponseCode"] == "00" and answer_signed(rest, REFUND_ANSWER)
    assert refund(client, order, 70_000, "02", request_id=request_id)["vnp_ResponseCode"] == "94"
    assert refund(client, order, 1_000, "03")["vnp_ResponseCode"] == "99"  # nothing left
    state = client.get(f"/_sandbox/vnpay/transactions/{TMN}/{ref}").json()
    assert state["refundable"] == 0 and [r["amount"] for r in state["refunds"]] == [
        3_000_000,
        7_000_000,
    ]

    cancelled_ref = new_ref()
    cancelled = present(client, cancelled_ref)
    control_pay(client, cancelled_ref, action="cancel")
    assert refund(client, cancelled, 50_000, "02")["vnp_ResponseCode"] == "95"


# -- the daily statement ----------------------------------------------------------------------------


def statement(
    client: httpx.Client, day: str, *, tmn: str = TMN, secret: str = SECRET, **over: str
) -> dict[str, Any]:
    fields = {
        "vnp_RequestId": uuid.uuid4().hex,
        "vnp_TmnCode": tmn,
        "vnp_Date": day,
        "vnp_CreateDate": vnp_time(vn_now()),
        **over,
    }
    fields.setdefault(
        "vnp_SecureHash",
        pipe_hash(
            [fields[k] for k in ("vnp_RequestId", "vnp_TmnCode", "vnp_Date", "vnp_CreateDate")],
            secret,
        ),
    )
    answer = client.post("/merchant_webapi/api/statement", json=fields)
    assert answer.status_code == 200
    return answer.json()


def statement_signed(document: dict[str, Any], secret: str = SECRET) -> bool:
    body = {k: v for k, v in document.items() if k != "vnp_SecureHash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hmac.new(secret.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    return hmac.compare_digest(expected, document["vnp_SecureHash"])


def test_statement_lists_the_days_payments_refunds_and_injected_lines(
    client: httpx.Client,
) -> None:
    today = vn_now().strftime("%Y%m%d")
    paid_ref, refunded_ref, unpaid_ref = new_ref(), new_ref(), new_ref()
    present(client, paid_ref, amount_vnd=20_000)
    refunded = present(client, refunded_ref, amount_vnd=60_000)
    present(client, unpaid_ref)
    paid = control_pay(client, paid_ref)
    control_pay(client, refunded_ref)
    back = refund(client, refunded, 15_000, "03")
    orphan = {
        "vnp_TxnRef": "ORPHAN1",
        "vnp_TransactionNo": "99999999",
        "vnp_Amount": "1200000",
        "vnp_PayDate": f"{today}093000",
    }
    injected = client.post(
        "/_sandbox/vnpay/statement-lines",
        json={"tmn_code": TMN, "date": today, "lines": [orphan, orphan]},
    )
    assert injected.status_code == 200

    document = statement(client, today)
    assert document["vnp_ResponseCode"] == "00" and statement_signed(document)
    assert document["vnp_TmnCode"] == TMN and document["vnp_Date"] == today
    lines = document["vnp_Transactions"]
    mine = {(line["vnp_TxnRef"], line["vnp_TransactionType"]): line for line in lines}
    assert mine[(paid_ref, "01")] == {
        "vnp_TxnRef": paid_ref,
        "vnp_TransactionNo": paid["transaction_no"],
        "vnp_Amount": "2000000",
        "vnp_PayDate": paid["pay_date"],
        "vnp_TransactionType": "01",
        "vnp_TransactionStatus": "00",
    }
    assert mine[(refunded_ref, "01")]["vnp_Amount"] == "6000000"
    assert mine[(refunded_ref, "03")]["vnp_Amount"] == "1500000"
    assert mine[(refunded_ref, "03")]["vnp_TransactionNo"] == back["vnp_TransactionNo"]
    assert not any(line["vnp_TxnRef"] == unpaid_ref for line in lines)
    orphans = [line for line in lines if line["vnp_TxnRef"] == "ORPHAN1"]
    assert len(orphans) == 2 and orphans[0]["vnp_TransactionType"] == "01"

    assert statement(client, "20000101")["vnp_Transactions"] == []
    assert statement(client, today, vnp_SecureHash="00")["vnp_ResponseCode"] == "97"
    other = statement(client, today, tmn=OTHER_TMN, secret=OTHER_SECRET)
    assert other["vnp_ResponseCode"] == "00" and statement_signed(other, OTHER_SECRET)
    assert not any(line["vnp_TxnRef"] == paid_ref for line in other["vnp_Transactions"])


# -- the bank ---------------------------------------------------------------------------------------

ACCOUNT = "113366668888"


def test_a_credit_sends_a_signed_notice(client: httpx.Client, receiver: Receiver) -> None:
    created = client.post(
        "/bank/credits",
        json={
            "bank_bin": "970415",
            "account_no": ACCOUNT,
            "amount_vnd": 50_000,
            "description": "HS000123 LE PHI",
        },
    )
    assert created.status_code == 201, created.text
    credit = created.json()["credit"]
    assert credit["transaction_id"].startswith("FT")
    assert created.json()["deliveries"][0]["status_code"] == 200
    (notice,) = receiver.notices(credit["transaction_id"])
    assert bank_valid(notice.headers, notice.body)
    assert abs(int(notice.headers["x-bank-timestamp"]) - time.time()) < 60
    assert json.loads(notice.body) == credit
    assert set(credit) == {
        "transaction_id",
        "bank_bin",
        "account_no",
        "amount_vnd",
        "description",
        "credited_at",
    }
    assert credit["credited_at"].endswith("+07:00")
    # Anyone who changes a byte of the body no longer has a valid signature.
    assert not bank_valid(notice.headers, notice.body.replace(b"50000", b"5000"))


def test_duplicate_and_retried_notices(client: httpx.Client, receiver: Receiver) -> None:
    twice = client.post(
        "/bank/credits",
        json={
            "bank_bin": "970415",
            "account_no": ACCOUNT,
            "amount_vnd": 20_000,
            "description": "HS000124 LE PHI",
            "duplicates": 2,
        },
    ).json()
    notices = receiver.notices(twice["credit"]["transaction_id"])
    assert len(notices) == 2 and notices[0].body == notices[1].body

    transaction_id = f"FT{uuid.uuid4().int % 10**12:012d}"
    receiver.notice_script[transaction_id] = [500, 503]
    first = client.post(
        "/bank/credits",
        json={
            "bank_bin": "970415",
            "account_no": ACCOUNT,
            "amount_vnd": 30_000,
            "description": "HS000125 LE PHI",
            "transaction_id": transaction_id,
        },
    ).json()
    assert first["deliveries"][0]["status_code"] == 500
    notices = until(
        lambda: len(receiver.notices(transaction_id)) == 3 and receiver.notices(transaction_id)
    )
    assert all(bank_valid(n.headers, n.body) for n in notices)
    time.sleep(INTERVAL_S * 3)
    assert len(receiver.notices(transaction_id)) == 3

    silent = client.post(
        "/bank/credits",
        json={
            "bank_bin": "970415",
            "account_no": ACCOUNT,
            "amount_vnd": 10_000,
            "description": "khong thong bao",
            "deliver": False,
        },
    ).json()
    assert silent["deliveries"] == [] and receiver.notices(silent["credit"]["transaction_id"]) == []
    same_id = client.post(
        "/bank/credits",
        json={
            "bank_bin": "970415",
            "account_no": ACCOUNT,
            "amount_vnd": 1,
            "description": "x",
            "transaction_id": transaction_id,
        },
    )
    assert same_id.status_code == 409


def test_bank_statement_is_signed_and_may_list_a_credit_twice(client: httpx.Client) -> None:
    account = f"9{uuid.uuid4().int % 10**11:011d}"
    today = vn_now().date().isoformat()
    credit = client.post(
        "/bank/credits",
        json={
            "bank_bin": "970436",
            "account_no": account,
            "amount_vnd": 45_000,
            "description": "HS000200 LE PHI",
            "deliver": False,
        },
    ).json()["credit"]
    yesterday = (vn_now() - dt.timedelta(days=1)).replace(microsecond=0)
    client.post(
        "/bank/credits",
        json={
            "bank_bin": "970436",
            "account_no": account,
            "amount_vnd": 1_000,
            "description": "hom qua",
            "credited_at": yesterday.isoformat(),
            "deliver": False,
        },
    )
    injected = client.post(
        "/_sandbox/bank/statement-lines",
        json={
            "account_no": account,
            "date": today,
            "entries": [
                {k: credit[k] for k in ("transaction_id", "bank_bin", "amount_vnd", "description")},
                {"transaction_id": "FTORPHAN", "amount_vnd": 5_000, "description": "khong ro"},
            ],
        },
    )
    assert injected.status_code == 200, injected.text

    answer = client.get("/bank/statements", params={"account_no": account, "date": today})
    assert answer.status_code == 200
    headers = {k.lower(): v for k, v in answer.headers.items()}
    assert bank_valid(headers, answer.content)
    document = answer.json()
    assert document["account_no"] == account and document["date"] == today
    ids = [e["transaction_id"] for e in document["entries"]]
    assert ids == [credit["transaction_id"], credit["transaction_id"], "FTORPHAN"]
    assert document["entries"][0] == credit
    assert all(e["account_no"] == account for e in document["entries"])

    before = client.get(
        "/bank/statements", params={"account_no": account, "date": yesterday.date().isoformat()}
    ).json()
    assert [e["description"] for e in before["entries"]] == ["hom qua"]


def test_reset_forgets_everything(client: httpx.Client) -> None:
    ref = new_ref()
    present(client, ref)
    client.put("/_sandbox/knobs", json={"ipn_drop": True})
    assert client.post("/_sandbox/reset").status_code == 200
    assert client.get(f"/_sandbox/vnpay/transactions/{TMN}/{ref}").status_code == 404
    assert client.get("/_sandbox/vnpay/ipns").json() == []
    assert client.get("/_sandbox/bank/notices").json() == []
    assert client.get("/_sandbox/knobs").json()["ipn_drop"] is False
