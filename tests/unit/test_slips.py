"""The slips of Circular 01/2018: content built from a dossier and its log, and the printed PDF."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest

from intake_service.domain.slips import (
    AttachedDocument,
    DossierSnapshot,
    ProcedureSnapshot,
    ReceiptSlip,
    RefusalSlip,
    SlipKind,
    SlipNotIssued,
    SupplementRequestSlip,
    UnitSnapshot,
    build_slip,
    slip_document,
    supplement_note,
)
from shared.pdf import qr_matrix, render_pdf, vietnamese_date

VERSIONS = Path(__file__).parents[2] / "intake_service" / "db" / "migrations" / "versions"

LOOKUP = "https://dichvucong.hanoi.gov.vn/tra-cuu"
SUBMITTED = dt.datetime(2026, 3, 5, 1, 0, tzinfo=dt.UTC)
RECEIVED = dt.datetime(2026, 3, 5, 2, 30, tzinfo=dt.UTC)  # 09:30 in Hà Nội
APPOINTMENT = dt.datetime(2026, 3, 16, 2, 30, tzinfo=dt.UTC)
HOAN_KIEM = UnitSnapshot(code="00070", name="Phường Hoàn Kiếm", level="commune")


@dataclass
class Entry:
    action: str
    at: dt.datetime
    actor: str
    note: str | None = None
    supplement: dict[str, Any] | None = None


def request(items: list[tuple[str, str]], note: str | None = None) -> dict[str, Any]:
    """A supplement request as its action row keeps it."""
    return {"items": [{"component": c, "reason": r} for c, r in items], "note": note}


def dossier(status: str = "received", received: bool = True) -> DossierSnapshot:
    return DossierSnapshot(
        code="00070-260305-0001",
        status=status,
        channel="direct",
        applicant={
            "kind": "citizen",
            "id_number": "001090012345",
            "name": "Đặng Thị Ngữ Ư",
            "phone": "0912345678",
            "address": "Số 5 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
        },
        fee_amount_vnd=20000,
        received_at=RECEIVED if received else None,
        appointment_at=APPOINTMENT if received else None,
    )


PROCEDURE = ProcedureSnapshot(
    key="dang-ky-thuong-tru",
    code="1.004222",
    name="Đăng ký thường trú",
    version=2,
    processing_working_days=7,
    data={
        "components": [
            "Tờ khai thay đổi thông tin cư trú",
            {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "count": 1, "original": False},
        ]
    },
)


def receipt() -> ReceiptSlip:
    slip = build_slip(
        SlipKind.receipt,
        dossier(),
        PROCEDURE,
        [
            Entry("submit", SUBMITTED, "cb.tiepnhan.00070"),
            Entry("receive", RECEIVED, "cb.tiepnhan.00070"),
        ],
        HOAN_KIEM,
        LOOKUP,
        [
            AttachedDocument("Tờ khai thay đổi thông tin cư trú", digitised=True),
            AttachedDocument("Sổ hộ khẩu cũ", digitised=False),
        ],
    )
    assert isinstance(slip, ReceiptSlip)
    return slip


def _backfill() -> Any:
    """The migration that filled the structured column from the notes written before it."""
    path = next(VERSIONS.glob("*_supplement_items.py"))
    spec = importlib.util.spec_from_file_location("supplement_items_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_backfill_reads_an_old_note_back_into_components_reasons_and_note() -> None:
    items = [
        ("Giấy tờ chứng minh chỗ ở hợp pháp", "Bản chụp không rõ"),
        ("Tờ khai — bản 2", "Thiếu chữ ký\nchủ hộ"),
    ]
    text = supplement_note(items, "Bổ sung trong 10 ngày làm việc\nliên hệ quầy số 3")
    assert _backfill().supplement_of_note(text) == request(
        [
            ("Giấy tờ chứng minh chỗ ở hợp pháp", "Bản chụp không rõ"),
            ("Tờ khai - bản 2", "Thiếu chữ ký chủ hộ"),
        ],
        "Bổ sung trong 10 ngày làm việc\nliên hệ quầy số 3",
    )


def test_the_backfill_finds_no_component_list_in_a_free_text_note() -> None:
    assert _backfill().supplement_of_note("Thiếu giấy tờ") is None
    assert _backfill().supplement_of_note(None) is None


def test_receipt_lists_required_and_attached_components_with_the_appointment() -> None:
    slip = receipt()
    assert slip.kind == "receipt"
    assert slip.issued_at == RECEIVED and slip.officer == "cb.tiepnhan.00070"
    assert slip.appointment_at == APPOINTMENT and slip.processing_working_days == 7
    assert [(c.name, c.digitised) for c in slip.components] == [
        ("Tờ khai thay đổi thông tin cư trú", True),
        ("Giấy tờ chứng minh chỗ ở hợp pháp", False),
        ("Sổ hộ khẩu cũ", False),
    ]
    assert slip.components[1].form_vi == "Bản sao" and slip.components[1].copies == 1
    assert slip.lookup_url == f"{LOOKUP}/00070-260305-0001"
    assert slip.unit.desk_name == "Bộ phận Một cửa" and slip.procedure_version == 2


def test_a_province_receives_at_its_public_service_centre() -> None:
    slip = build_slip(
        SlipKind.receipt,
        dossier(),
        PROCEDURE,
        [Entry("receive", RECEIVED, "cb.tinh.01")],
        UnitSnapshot(code="01", name="Thành phố Hà Nội", level="province"),
        LOOKUP,
    )
    assert slip.unit.desk_name == "Trung tâm Phục vụ hành chính công"


def test_no_receipt_before_the_dossier_is_received() -> None:
    with pytest.raises(SlipNotIssued) as exc:
        build_slip(
            SlipKind.receipt,
            dossier("submitted", received=False),
            PROCEDURE,
            [Entry("submit", SUBMITTED, "001090012345")],
            HOAN_KIEM,
            LOOKUP,
        )
    assert exc.value.status == "submitted"


def test_no_refusal_slip_for_a_received_dossier() -> None:
    with pytest.raises(SlipNotIssued):
        build_slip(
            SlipKind.refusal,
            dossier(),
            PROCEDURE,
            [Entry("receive", RECEIVED, "cb.tiepnhan.00070")],
            HOAN_KIEM,
            LOOKUP,
        )


def test_supplement_slip_reads_the_list_of_the_request() -> None:
    asked = [("Tờ khai thay đổi thông tin cư trú", "Thiếu chữ ký chủ hộ")]
    slip = build_slip(
        SlipKind.supplement_request,
        dossier("awaiting_supplement", received=False),
        PROCEDURE,
        [
            Entry("submit", SUBMITTED, "001090012345"),
            # The note's text is not where the list is read from.
            Entry(
                "request_supplement",
                RECEIVED,
                "cb.tiepnhan.00070",
                "sửa tay",
                request(asked, "Gấp"),
            ),
        ],
        HOAN_KIEM,
        LOOKUP,
    )
    assert isinstance(slip, SupplementRequestSlip)
    assert [(i.component, i.reason) for i in slip.items] == [
        ("Tờ khai thay đổi thông tin cư trú", "Thiếu chữ ký chủ hộ")
    ]
    assert slip.note == "Gấp" and slip.issued_at == RECEIVED


def test_refusal_slip_carries_the_reason_of_the_latest_refusal() -> None:
    refused_at = RECEIVED + dt.timedelta(hours=1)
    slip = build_slip(
        SlipKind.refusal,
        dossier("refused", received=False),
        PROCEDURE,
        [
            Entry("submit", SUBMITTED, "001090012345"),
            Entry("refuse", refused_at, "cb.tiepnhan.00070", "Không thuộc thẩm quyền của phường"),
        ],
        HOAN_KIEM,
        LOOKUP,
    )
    assert isinstance(slip, RefusalSlip)
    assert slip.reason == "Không thuộc thẩm quyền của phường" and slip.issued_at == refused_at


def test_dates_follow_the_administrative_style() -> None:
    assert (
        vietnamese_date(dt.date(2026, 2, 5), "Hoàn Kiếm") == "Hoàn Kiếm, ngày 05 tháng 02 năm 2026"
    )
    assert vietnamese_date(dt.date(2026, 11, 25)) == "Ngày 25 tháng 11 năm 2026"


def pdf_text(content: bytes) -> str:
    """The text of every page, with line breaks of wrapped lines read as spaces."""
    pages = pypdf.PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())


def test_receipt_pdf_shows_vietnamese_text_and_the_appointment() -> None:
    content = render_pdf(slip_document(receipt()))
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Đặng Thị Ngữ Ư",
        "Giấy tờ chứng minh chỗ ở hợp pháp",
        "00070-260305-0001",
        # 09:30 and 09:30 eleven calendar days later, in Hà Nội's time.
        "09 giờ 30 phút, ngày 05 tháng 3 năm 2026",
        "09 giờ 30 phút, ngày 16 tháng 3 năm 2026",
        "20.000 đồng",
        "Phường Hoàn Kiếm, ngày 05 tháng 3 năm 2026",
    ):
        assert expected in text, expected


def test_refusal_pdf_states_the_reason() -> None:
    slip = build_slip(
        SlipKind.refusal,
        dossier("refused", received=False),
        PROCEDURE,
        [Entry("refuse", RECEIVED, "cb.tiepnhan.00070", "Hồ sơ đã được giải quyết ở xã khác")],
        HOAN_KIEM,
        LOOKUP,
    )
    text = pdf_text(render_pdf(slip_document(slip)))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Hồ sơ đã được giải quyết ở xã khác" in text


def test_the_same_slip_renders_to_the_same_bytes_dated_by_the_slip() -> None:
    first = render_pdf(slip_document(receipt()))
    assert first == render_pdf(slip_document(receipt()))
    info = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert info is not None and info.creation_date == RECEIVED


def qr_modules(content: bytes) -> list[list[bool]]:
    """The QR image embedded in the PDF, sampled back to its modules (quiet zone removed)."""
    page = pypdf.PdfReader(io.BytesIO(content)).pages[0]
    (image,) = page.images
    pixels = image.image.convert("L")
    width, height = pixels.size
    assert width == height
    # segno draws 8 pixels a module with a 4-module quiet zone on each side.
    modules = width // 8
    border = 4
    return [
        [pixels.getpixel((x * 8 + 4, y * 8 + 4)) < 128 for x in range(border, modules - border)]
        for y in range(border, modules - border)
    ]


def test_the_qr_code_encodes_the_public_lookup_url() -> None:
    slip = receipt()
    modules = qr_modules(render_pdf(slip_document(slip)))
    assert modules == qr_matrix(f"{LOOKUP}/00070-260305-0001")
    assert modules != qr_matrix(f"{LOOKUP}/00070-260305-0002")
