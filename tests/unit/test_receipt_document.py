"""The e-receipt for fees and charges: amounts in words, the printed PDF and its JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_service.domain.receipt_document import (
    METHOD_LABELS_VI,
    ReceiptData,
    ReceiptLine,
    mask_id_number,
    receipt_json,
    receipt_pdf,
    vnd_in_words,
)
from shared.pdf import qr_matrix

FULL_ID = "001090012789"
# 01:15 on 6 March in Hà Nội, still 5 March in UTC: the receipt must print Vietnam's date.
ISSUED = dt.datetime(2026, 3, 5, 18, 15, tzinfo=dt.UTC)
VERIFY = "https://dichvucong.hanoi.gov.vn/bien-lai/01BLP0-001/BI-26T/0000042?ma=7Q2KD9"


def receipt(**changes: object) -> ReceiptData:
    data = ReceiptData(
        form_code="01BLP0-001",
        symbol="BI-26T",
        number=42,
        issued_at=ISSUED,
        agency_name="UBND Phường Hoàn Kiếm",
        agency_code="00070",
        agency_tax_code="0101234567",
        payer_name="Đặng Thị Ngữ Ư",
        payer_id_masked=mask_id_number(FULL_ID),
        payer_address="Số 5 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
        dossier_code="00070-260305-0001",
        procedure_name="Đăng ký thường trú",
        lines=(
            ReceiptLine("Lệ phí", "Lệ phí đăng ký cư trú", 20_000),
            ReceiptLine("Phí", "Phí khai thác và sử dụng thông tin", 5_000),
        ),
        total_vnd=25_000,
        method_label=METHOD_LABELS_VI["vnpay"],
        verify_url=VERIFY,
    )
    return dataclasses.replace(data, **changes) if changes else data


def pdf_text(content: bytes) -> str:
    """The text of every page, with line breaks of wrapped lines read as spaces."""
    pages = pypdf.PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())


# --- Amounts in words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (20_000, "Hai mươi nghìn đồng"),
        (50_000, "Năm mươi nghìn đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (21_000, "Hai mươi mốt nghìn đồng"),
        (105_000, "Một trăm linh năm nghìn đồng"),
        (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
        (2_004_000, "Hai triệu không trăm linh bốn nghìn đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
        (3_050_000_000, "Ba tỷ không trăm năm mươi triệu đồng"),
        (1_011, "Một nghìn không trăm mười một đồng"),
    ],
)
def test_amounts_read_as_vietnamese_words(amount: int, words: str) -> None:
    assert vnd_in_words(amount) == words


def test_a_negative_amount_has_no_words() -> None:
    with pytest.raises(ValueError):
        vnd_in_words(-1)


# Every word an amount can be read with.
_WORDS = {
    *("không", "một", "mốt", "hai", "ba", "bốn", "năm", "lăm", "sáu", "bảy", "tám", "chín"),
    *("mười", "mươi", "trăm", "linh", "nghìn", "triệu", "tỷ"),
}


@given(st.integers(min_value=0, max_value=10**12))
def test_every_amount_up_to_a_thousand_billion_reads_in_known_words(amount: int) -> None:
    text = vnd_in_words(amount)
    assert text[0].isupper() and text.endswith(" đồng") and "  " not in text
    assert set(text[:-5].lower().split()) <= _WORDS


@given(
    st.integers(min_value=1, max_value=999),
    st.sampled_from([(1_000, "nghìn"), (1_000_000, "triệu"), (1_000_000_000, "tỷ")]),
)
def test_a_round_amount_reads_its_leading_group_then_the_unit(
    leading: int, scale: tuple[int, str]
) -> None:
    factor, unit = scale
    assert vnd_in_words(leading * factor) == vnd_in_words(leading).removesuffix(" đồng") + (
        f" {unit} đồng"
    )


@given(st.integers(min_value=1, max_value=9), st.sampled_from(["nghìn", "triệu", "tỷ"]))
def test_a_single_digit_round_amount_is_two_words_and_the_currency(digit: int, unit: str) -> None:
    factor = {"nghìn": 10**3, "triệu": 10**6, "tỷ": 10**9}[unit]
    names = ["Một", "Hai", "Ba", "Bốn", "Năm", "Sáu", "Bảy", "Tám", "Chín"]
    assert vnd_in_words(digit * factor) == f"{names[digit - 1]} {unit} đồng"


# --- The receipt as data ---------------------------------------------------------------------------


def test_the_id_number_is_masked_but_for_its_ends() -> None:
    assert mask_id_number(FULL_ID) == "001******789"


def test_a_receipt_refuses_an_unmasked_id_number() -> None:
    with pytest.raises(ValueError, match="unmasked"):
        receipt(payer_id_masked=FULL_ID)


def test_a_receipt_refuses_a_total_that_is_not_the_sum_of_its_lines() -> None:
    with pytest.raises(ValueError, match="sum"):
        receipt(total_vnd=20_000)


def test_a_receipt_refuses_a_naive_issue_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        receipt(issued_at=dt.datetime(2026, 3, 5, 8, 15))


def test_the_words_default_to_the_total_and_the_number_has_seven_digits() -> None:
    data = receipt()
    assert data.amount_in_words == "Hai mươi lăm nghìn đồng"
    assert data.number_text == "0000042"


# --- The printed receipt ---------------------------------------------------------------------------


def test_the_pdf_prints_the_receipt_identity_lines_total_and_words() -> None:
    content = receipt_pdf(receipt())
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    for expected in (
        "BIÊN LAI THU PHÍ, LỆ PHÍ",
        "UBND PHƯỜNG HOÀN KIẾM",
        "01BLP0-001",
        "BI-26T",
        "0000042",
        "Đặng Thị Ngữ Ư",
        "001******789",
        "00070-260305-0001",
        "Lệ phí đăng ký cư trú",
        "Phí khai thác và sử dụng thông tin",
        "20.000",
        "5.000",
        "Tổng cộng 25.000",
        "Hai mươi lăm nghìn đồng",
        "Trực tuyến qua cổng thanh toán",
        "NGƯỜI THU TIỀN",
        "Hệ thống",
        # The date and time in Hà Nội, a day after the UTC date.
        "01 giờ 15 phút, ngày 06 tháng 3 năm 2026",
        "Ngày 06 tháng 3 năm 2026",
    ):
        assert expected in text, expected


def test_the_verify_url_is_printed_as_text() -> None:
    # A long URL wraps anywhere, so compare with all spaces removed.
    assert VERIFY in pdf_text(receipt_pdf(receipt())).replace(" ", "")


def test_the_same_receipt_renders_to_the_same_bytes() -> None:
    assert receipt_pdf(receipt()) == receipt_pdf(receipt())


def test_a_different_number_renders_different_bytes() -> None:
    assert receipt_pdf(receipt()) != receipt_pdf(receipt(number=43))


def test_only_a_cancelled_receipt_carries_the_cancellation_mark() -> None:
    assert "ĐÃ HỦY" not in pdf_text(receipt_pdf(receipt()))
    assert "ĐÃ HỦY" in pdf_text(receipt_pdf(receipt(status="cancelled")))


def test_a_cash_receipt_names_the_officer_who_collected() -> None:
    text = pdf_text(
        receipt_pdf(receipt(method_label=METHOD_LABELS_VI["cash"], collected_by="Nguyễn Văn Thu"))
    )
    assert "Tiền mặt tại quầy" in text and "Nguyễn Văn Thu" in text


def test_the_full_id_number_appears_nowhere() -> None:
    content = receipt_pdf(receipt())
    digits_only = re.sub(r"\D", "", pdf_text(content))
    assert FULL_ID not in digits_only
    assert FULL_ID.encode() not in content
    assert FULL_ID not in repr(receipt_json(receipt()))


def test_the_qr_code_encodes_the_verify_url() -> None:
    page = pypdf.PdfReader(io.BytesIO(receipt_pdf(receipt()))).pages[0]
    (image,) = page.images
    pixels = image.image.convert("L")
    # segno draws 8 pixels a module with a 4-module quiet zone on each side.
    modules = pixels.size[0] // 8
    sampled = [
        [pixels.getpixel((x * 8 + 4, y * 8 + 4)) < 128 for x in range(4, modules - 4)]
        for y in range(4, modules - 4)
    ]
    assert sampled == qr_matrix(VERIFY)


# --- The receipt as JSON ---------------------------------------------------------------------------


def test_the_json_carries_the_same_content_with_the_padded_number() -> None:
    body = receipt_json(receipt(status="cancelled"))
    assert body["number"] == 42 and body["number_text"] == "0000042"
    assert body["form_code"] == "01BLP0-001" and body["symbol"] == "BI-26T"
    assert body["issued_at"] == "2026-03-06T01:15:00+07:00"
    assert body["lines"] == [
        {"kind_label": "Lệ phí", "name": "Lệ phí đăng ký cư trú", "amount_vnd": 20_000},
        {"kind_label": "Phí", "name": "Phí khai thác và sử dụng thông tin", "amount_vnd": 5_000},
    ]
    assert body["total_vnd"] == 25_000 and body["amount_in_words"] == "Hai mươi lăm nghìn đồng"
    assert body["status"] == "cancelled" and body["verify_url"] == VERIFY
    assert body["payer_id_masked"] == "001******789"
