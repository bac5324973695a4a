"""Payment's pure rules: the VNPay signing recipe against the documented query string, the
state machine table, and who collects for whom."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_service.domain import payees, states, vnpay
from payment_service.payments.service import _EVENTS
from payment_service.settings import PaymentSettings

# The example pay URL of VNPay's 2.1.0 documentation, without its hash.
DOC_QUERY = (
    "vnp_Amount=1806000&vnp_Command=pay&vnp_CreateDate=20210801153333&vnp_CurrCode=VND"
    "&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+%3A5"
    "&vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fdomainmerchant.vn%2FReturnUrl"
    "&vnp_TmnCode=DEMOV210&vnp_TxnRef=5&vnp_Version=2.1.0"
)
DOC_PARAMS = {
    "vnp_Version": "2.1.0",
    "vnp_TxnRef": "5",
    "vnp_TmnCode": "DEMOV210",
    "vnp_ReturnUrl": "https://domainmerchant.vn/ReturnUrl",
    "vnp_OrderType": "other",
    "vnp_OrderInfo": "Thanh toan don hang :5",
    "vnp_Locale": "vn",
    "vnp_IpAddr": "127.0.0.1",
    "vnp_CurrCode": "VND",
    "vnp_CreateDate": "20210801153333",
    "vnp_Command": "pay",
    "vnp_Amount": "1806000",
    "vnp_BankCode": "",  # empty values are left out of the signed text
}


def test_canonical_query_is_the_documented_query_string() -> None:
    assert vnpay.canonical_query(DOC_PARAMS) == DOC_QUERY


def test_signature_is_hmac_sha512_of_the_query_string_and_verifies_in_either_case() -> None:
    secret = "SECRETKEY0123456789"
    expected = hmac.new(secret.encode(), DOC_QUERY.encode(), hashlib.sha512).hexdigest()
    assert vnpay.sign(secret, vnpay.canonical_query(DOC_PARAMS)) == expected
    assert vnpay.verify(secret, {**DOC_PARAMS, "vnp_SecureHash": expected.upper()})
    assert not vnpay.verify(
        secret, {**DOC_PARAMS, "vnp_Amount": "1806100", "vnp_SecureHash": expected}
    )
    assert not vnpay.verify("another", {**DOC_PARAMS, "vnp_SecureHash": expected})
    assert not vnpay.verify(secret, DOC_PARAMS)


def test_pay_parameters_carry_amount_times_100_gmt7_dates_and_ascii_order_info() -> None:
    created = dt.datetime(2026, 12, 3, 2, 0, 0, tzinfo=dt.UTC)
    params = vnpay.pay_params(
        vnpay.PayRequest(
            tmn_code="MOTCUA01",
            txn_ref="MCABC123",
            amount_vnd=20000,
            order_info="Thanh toán lệ phí hồ sơ 00070-261203-0001",
            return_url="https://motcua.example/return",
            ip_addr="203.0.113.7",
            created_at=created,
            expires_at=created + dt.timedelta(minutes=15),
        )
    )
    assert params["vnp_Amount"] == "2000000"
    assert (params["vnp_CreateDate"], params["vnp_ExpireDate"]) == (
        "20261203090000",
        "20261203091500",
    )
    assert params["vnp_OrderInfo"] == "Thanh toan le phi ho so 00070 261203 0001"
    assert "vnp_SecureHashType" not in params


@given(st.text(max_size=80))
def test_order_info_always_folds_to_letters_digits_and_spaces(text: str) -> None:
    folded = vnpay.fold_ascii(text, 255)
    assert all(c.isascii() and (c.isalnum() or c == " ") for c in folded)


def test_a_result_succeeds_only_when_response_and_transaction_status_are_both_00() -> None:
    base = {"vnp_TxnRef": "MC1", "vnp_Amount": "2000000", "vnp_PayDate": "20261203090500"}
    ok = vnpay.result_from_params({**base, "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00"})
    assert ok.succeeded and ok.amount_vnd == 20000
    assert ok.paid_at == dt.datetime(2026, 12, 3, 2, 5, tzinfo=dt.UTC)
    reversed_ = vnpay.result_from_params(
        {**base, "vnp_ResponseCode": "00", "vnp_TransactionStatus": "04"}
    )
    assert not reversed_.succeeded
    odd = vnpay.result_from_params({**base, "vnp_Amount": "2000050", "vnp_ResponseCode": "00"})
    assert odd.amount_vnd is None  # not a whole number of đồng: never equal to what we asked


def test_querydr_checksum_joins_the_fields_in_the_documented_order() -> None:
    message = {field: f"v{i}" for i, field in enumerate(vnpay.QUERYDR_REQUEST_FIELDS)}
    text = "|".join(f"v{i}" for i in range(len(vnpay.QUERYDR_REQUEST_FIELDS)))
    assert (
        vnpay.pipe_checksum("k", message, vnpay.QUERYDR_REQUEST_FIELDS)
        == hmac.new(b"k", text.encode(), hashlib.sha512).hexdigest()
    )
    signed = {
        **message,
        "vnp_SecureHash": vnpay.pipe_checksum("k", message, vnpay.QUERYDR_REQUEST_FIELDS),
    }
    assert vnpay.verify_pipe("k", signed, vnpay.QUERYDR_REQUEST_FIELDS)
    assert not vnpay.verify_pipe("k", {**signed, "vnp_TxnRef": "x"}, vnpay.QUERYDR_REQUEST_FIELDS)


def test_every_status_is_reachable_from_created_and_every_transition_has_its_event() -> None:
    reached, frontier = {states.PaymentStatus.created}, [states.PaymentStatus.created]
    while frontier:
        status = frontier.pop()
        for t in states.TRANSITIONS:
            if t.source == status and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(states.PaymentStatus)
    for t in states.TRANSITIONS:
        assert t.event == "payment.succeeded" or t.event in _EVENTS
    table = states.markdown_table()
    assert all(f"`{a}`" in table for a in states.PaymentAction)


def test_money_once_taken_never_goes_back_to_waiting_or_expired() -> None:
    for t in states.TRANSITIONS:
        if t.source in states.PAID:
            assert t.target not in states.OPEN | {states.PaymentStatus.expired}
    with pytest.raises(states.TransitionNotAllowed):
        states.transition(states.PaymentStatus.succeeded, states.PaymentAction.expire)
    late = states.transition(states.PaymentStatus.expired, states.PaymentAction.succeed_late)
    assert late.target == states.PaymentStatus.succeeded_late


def test_fees_go_to_the_receiving_desk_and_obligations_to_the_province_tax_authority() -> None:
    assert payees.collecting_agency("fee", "01.00070") == "motcua-00070"
    assert payees.collecting_agency("fee", "01") == "ttphcc-01"
    assert payees.collecting_agency("financial_obligation", "01.00070") == "thue-01"


def test_an_agency_registered_in_the_payees_file_uses_its_own_terminal_and_account(
    tmp_path: Path,
) -> None:
    file = tmp_path / "payees.json"
    file.write_text(
        json.dumps(
            {
                "thue-01": {
                    "name": "Thuế thành phố Hà Nội",
                    "bank_bin": "970436",
                    "account_no": "7111000123456",
                    "vnpay_tmn_code": "THUEHN01",
                    "vnpay_hash_secret": "per-agency-secret",
                }
            }
        )
    )
    settings = PaymentSettings(
        payees_file=file, vnpay_tmn_code="DEFAULT1", vnpay_hash_secret="default-secret"
    )
    own = payees.payee(settings, "thue-01")
    assert (own.tmn_code, own.hash_secret, own.account_no) == (
        "THUEHN01",
        "per-agency-secret",
        "7111000123456",
    )
    other = payees.payee(settings, "motcua-00070")
    assert (other.tmn_code, other.account_no) == ("DEFAULT1", settings.default_account_no)
    assert payees.secret_for_terminal(settings, "THUEHN01") == "per-agency-secret"
    assert payees.secret_for_terminal(settings, "DEFAULT1") == "default-secret"
    assert payees.secret_for_terminal(settings, "UNKNOWN") is None


def test_an_agency_answers_to_its_ward_or_province_from_the_national_list() -> None:
    assert payees.agency_unit_path("motcua-00070") == "01.00070"
    assert payees.agency_unit_path("thue-01") == "01"
    assert payees.agency_unit_path("motcua-99999") is None
