"""VietQR payloads: the published vectors byte for byte, decoding, validation and rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_service.domain.vietqr import (
    InvalidPayload,
    VietQR,
    crc16_ccitt_false,
    decode,
    encode,
    fold_ascii,
    qr_png,
    qr_svg,
)

STATIC_970423 = (
    "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4"
)
DYNAMIC_970422 = (
    "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA5303704540540123"
    "5802VN62160812chuyen khoan6304722F"
)
DOSSIER_FEE_970415 = (
    "00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA5303704540550000"
    "5802VN62190815HS000123 LE PHI63044B50"
)

VECTORS = [
    pytest.param(VietQR("970423", "0099999999"), STATIC_970423, id="static"),
    pytest.param(
        VietQR("970422", "0023457923442", amount_vnd=40_123, purpose="chuyển khoản"),
        DYNAMIC_970422,
        id="dynamic-folded-purpose",
    ),
    pytest.param(
        VietQR("970415", "113366668888", amount_vnd=50_000, purpose="HS000123 LE PHI"),
        DOSSIER_FEE_970415,
        id="dossier-fee",
    ),
]


def with_crc(body: str) -> str:
    """A payload whose CRC is right for ``body``, to reach the checks that come after it."""
    return body + "6304" + crc16_ccitt_false(body + "6304")


def test_crc_of_the_standard_check_string_is_29b1() -> None:
    assert crc16_ccitt_false("123456789") == "29B1"


@pytest.mark.parametrize(("qr", "payload"), VECTORS)
def test_encode_reproduces_the_published_vector(qr: VietQR, payload: str) -> None:
    assert encode(qr) == payload


@pytest.mark.parametrize(("qr", "payload"), VECTORS)
def test_decode_gives_back_the_fields_of_the_vector(qr: VietQR, payload: str) -> None:
    assert decode(payload) == qr


def test_decoded_dynamic_vector_has_its_amount_and_folded_purpose() -> None:
    qr = decode(DYNAMIC_970422)
    assert (qr.bank_bin, qr.account, qr.amount_vnd) == ("970422", "0023457923442", 40_123)
    assert qr.purpose == "chuyen khoan"
    assert qr.service == "QRIBFTTA"
    assert not qr.is_static


def test_static_qr_has_no_amount_tag_and_initiation_11() -> None:
    payload = encode(VietQR("970423", "0099999999"))
    assert payload.startswith("000201010211")
    assert "5802VN6304" in payload  # 58 is followed directly by the CRC: no 54, no 62


def test_a_payload_with_one_digit_changed_fails_its_crc() -> None:
    tampered = DOSSIER_FEE_970415.replace("5405500005802", "5405900005802")
    assert tampered != DOSSIER_FEE_970415
    with pytest.raises(InvalidPayload, match="CRC"):
        decode(tampered)


def test_decode_accepts_a_lowercase_crc() -> None:
    assert decode(STATIC_970423[:-4] + STATIC_970423[-4:].lower()) == decode(STATIC_970423)


def test_decode_accepts_tags_in_another_order_between_00_and_63() -> None:
    # 53 and 58 before 38, and the sub-tags of 38 reversed: some generators do this.
    body = (
        "000201" + "010212" + "5303704" + "5802VN" + "540550000"
        "3856" + "0208QRIBFTTA" + "0126" + "0112113366668888" + "0006970415" + "0010A000000727"
        "62190815HS000123 LE PHI"
    )
    assert decode(with_crc(body)) == decode(DOSSIER_FEE_970415)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(STATIC_970423[:-8], "tag 63", id="crc-cut-off"),
        pytest.param(STATIC_970423[:30], "truncated", id="truncated-tlv"),
        pytest.param("0002010102116304", "truncated", id="header-only"),
        pytest.param("", "first", id="empty"),
        pytest.param(with_crc("010211000201"), "first", id="00-not-first"),
        pytest.param(with_crc("0002020102115303704"), "format indicator", id="bad-format"),
        pytest.param(STATIC_970423[:-8] + "63033BB4", "hex|tag 63|truncated", id="crc-short"),
        pytest.param(
            with_crc(
                "000201010211" + "38400124000697042301100099999999" + "0208QRIBFTTA53037045802VN"
            ),
            "tag 00 is missing",
            id="missing-guid",
        ),
        pytest.param(
            with_crc(
                "000201010211" + "38540010A00000077501240006970423011000999999990208QRIBFTTA"
                "53037045802VN"
            ),
            "GUID",
            id="vnpay-guid",
        ),
        pytest.param(with_crc("0002010102115303704" + "5802VN"), "tag 38", id="no-tag-38"),
        pytest.param(
            with_crc(
                "000201010211" + "38540010A00000072701240006970423011000999999990208QRIBFTTA"
                "53038405802VN"
            ),
            "currency",
            id="usd",
        ),
        pytest.param(
            with_crc(
                "000201010211" + "38540010A00000072701240006970423011000999999990208QRIBFTTA"
                "5303704540550000" + "5802VN"
            ),
            "initiation",
            id="static-with-amount",
        ),
        pytest.param(
            with_crc(
                "000201010212" + "38540010A00000072701240006970423011000999999990208QRIBFTTA"
                "5303704540850000.005802VN"
            ),
            "whole number",
            id="decimal-amount",
        ),
        pytest.param(
            with_crc(
                "000201010211" + "38540010A00000072701240006970423011000999999990208QRIBFTTX"
                "53037045802VN"
            ),
            "service",
            id="unknown-service",
        ),
        pytest.param(
            with_crc(
                "000201010211" + "38540010A00000072701240006970423011000999999990208QRIBFTTA"
                "53037045802VN5802VN"
            ),
            "twice",
            id="repeated-tag",
        ),
        pytest.param(with_crc("00020101021138AB"), "malformed", id="non-digit-length"),
    ],
)
def test_decode_refuses_a_malformed_payload(payload: str, message: str) -> None:
    with pytest.raises(InvalidPayload, match=message):
        decode(payload)


def test_invalid_payload_is_a_value_error() -> None:
    assert issubclass(InvalidPayload, ValueError)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"bank_bin": "97042"}, "6 digits", id="bin-too-short"),
        pytest.param({"bank_bin": "97042A"}, "6 digits", id="bin-not-digits"),
        pytest.param({"bank_bin": "٩٧٠٤٢٣"}, "6 digits", id="bin-arabic-digits"),
        pytest.param({"account": ""}, "empty", id="account-empty"),
        pytest.param({"account": "1" * 20}, "at most 19", id="account-too-long"),
        pytest.param({"account": "0099-999999"}, "letters and digits", id="account-dash"),
        pytest.param({"amount_vnd": 0}, "positive", id="amount-zero"),
        pytest.param({"amount_vnd": -5}, "positive", id="amount-negative"),
        pytest.param({"amount_vnd": 10**13}, "13 digits", id="amount-14-digits"),
        pytest.param({"amount_vnd": True}, "whole number", id="amount-bool"),
        pytest.param({"amount_vnd": 100.0}, "whole number", id="amount-float"),
        pytest.param({"purpose": "a" * 26}, "at most 25", id="purpose-too-long"),
        pytest.param({"purpose": "!!!"}, "no letters", id="purpose-empty-after-folding"),
        pytest.param({"service": "QRPUSH"}, "service", id="unknown-service"),
        pytest.param({"merchant_city": "Thanh pho Ho Chi Minh"}, "at most 15", id="city-long"),
    ],
)
def test_invalid_fields_are_refused_with_a_clear_message(
    fields: dict[str, object], message: str
) -> None:
    base: dict[str, object] = {"bank_bin": "970415", "account": "113366668888"}
    with pytest.raises(ValueError, match=message):
        VietQR(**{**base, **fields})  # type: ignore[arg-type]


def test_largest_13_digit_amount_is_accepted() -> None:
    qr = VietQR("970415", "113366668888", amount_vnd=10**13 - 1)
    assert "54139999999999999" in encode(qr)


def test_card_transfer_uses_service_qribfttc() -> None:
    qr = VietQR("970436", "9704361234567890", amount_vnd=20_000, service="QRIBFTTC")
    assert "0208QRIBFTTC" in encode(qr)
    assert decode(encode(qr)) == qr


def test_merchant_name_and_city_are_emitted_only_when_given() -> None:
    plain = encode(VietQR("970415", "113366668888", amount_vnd=50_000))
    assert "5802VN6304" in plain
    named = VietQR(
        "970415",
        "113366668888",
        amount_vnd=50_000,
        merchant_name="UBND Phường Bến Nghé",
        merchant_city="Hồ Chí Minh",
    )
    payload = encode(named)
    assert "5802VN5920UBND Phuong Ben Nghe6011Ho Chi Minh6304" in payload
    assert decode(payload) == named


def test_fold_ascii_removes_vietnamese_diacritics() -> None:
    assert fold_ascii("Lệ phí đăng ký thường trú") == "Le phi dang ky thuong tru"


def test_fold_ascii_maps_d_with_stroke_in_both_cases() -> None:
    assert fold_ascii("Đồng Đăng đường") == "Dong Dang duong"


def test_fold_ascii_drops_punctuation_and_collapses_spaces() -> None:
    assert fold_ascii("  HS-000123 ,  lệ   phí!\n(đợt 2) ") == "HS000123 le phi dot 2"


def test_fold_ascii_cuts_to_max_len_without_a_trailing_space() -> None:
    assert fold_ascii("chuyển khoản lệ phí", max_len=13) == "chuyen khoan"
    assert fold_ascii("chuyển khoản", max_len=6) == "chuyen"


def test_png_starts_with_the_png_signature() -> None:
    assert qr_png(DOSSIER_FEE_970415).startswith(b"\x89PNG\r\n\x1a\n")


def test_svg_is_an_svg_document() -> None:
    assert b"<svg" in qr_svg(DOSSIER_FEE_970415)


def test_larger_scale_gives_a_larger_image() -> None:
    assert len(qr_svg(STATIC_970423, scale=2)) > 0
    assert len(qr_png(STATIC_970423, scale=16)) > len(qr_png(STATIC_970423, scale=2))


def test_scale_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        qr_png(STATIC_970423, scale=0)


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_PURPOSE_TEXT = st.text(
    alphabet=_ALNUM + " đĐăâêôơưàáảãạệếềểễọốồổỗộờớởỡợ-.,",
    min_size=1,
    max_size=40,
).filter(lambda text: 0 < len(fold_ascii(text)) <= 25)


@given(
    bank_bin=st.from_regex(r"[0-9]{6}", fullmatch=True),
    account=st.text(alphabet=_ALNUM, min_size=1, max_size=19),
    amount_vnd=st.none() | st.integers(min_value=1, max_value=10**13 - 1),
    purpose=st.none() | _PURPOSE_TEXT,
    service=st.sampled_from(["QRIBFTTA", "QRIBFTTC"]),
)
def test_encode_then_decode_gives_back_the_same_qr(
    bank_bin: str, account: str, amount_vnd: int | None, purpose: str | None, service: str
) -> None:
    qr = VietQR(bank_bin, account, amount_vnd, purpose, service)  # type: ignore[arg-type]
    payload = encode(qr)
    assert decode(payload) == qr
    assert payload.isascii()
    assert crc16_ccitt_false(payload[:-4]) == payload[-4:]
