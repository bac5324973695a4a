"""The result document of a case (thông báo kết quả giải quyết hồ sơ) as an A4 PDF.

The content is described as data first (:func:`result_document`), then drawn by the shared
document renderer in Be Vietnam Pro, so every Vietnamese letter with its tone marks prints as
written. The PDF this gives is what :mod:`workflow_service.signing.signer` signs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.pdf import (
    Field,
    OfficialDocument,
    Paragraph,
    QrCode,
    SignatureBlock,
    Signatures,
    render_pdf,
)

TITLE = "THÔNG BÁO KẾT QUẢ GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH"
APPROVED_LABEL = "Chấp thuận"
REJECTED_LABEL = "Không chấp thuận"


@dataclass(frozen=True)
class ResultDocument:
    """What the result of one case says.

    ``issuer``: the superior body then the issuing body, e.g.
    ``("UBND QUẬN HOÀN KIẾM", "UBND PHƯỜNG HÀNG BẠC")``. ``content``: for an approval, what was
    issued (the certificate, licence or extract and its number); for a rejection, the reason.
    """

    issuer: tuple[str, ...]
    dossier_code: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    approved: bool
    content: str
    issued_at: dt.datetime
    signer_title: str
    signer_name: str | None = None
    number: str | None = None
    place: str | None = None
    applicant_address: str | None = None
    # Printed as a QR code so a paper copy leads back to the verification page.
    verification_url: str | None = None


def result_document(result: ResultDocument) -> OfficialDocument:
    """The result as an official document description, before drawing."""
    if result.issued_at.tzinfo is None:
        raise ValueError("issued_at must carry a time zone")
    blocks: list = [
        Paragraph(
            f"{result.issuer[-1] if result.issuer else 'Cơ quan giải quyết'} thông báo kết quả "
            f"giải quyết hồ sơ thủ tục hành chính như sau:"
        ),
        Field("Mã hồ sơ", result.dossier_code),
        Field("Thủ tục hành chính", f"{result.procedure_name} (mã {result.procedure_code})"),
        Field("Người nộp hồ sơ", result.applicant_name),
    ]
    if result.applicant_address:
        blocks.append(Field("Địa chỉ", result.applicant_address))
    blocks.append(Field("Kết quả", APPROVED_LABEL if result.approved else REJECTED_LABEL))
    blocks.append(
        Field("Nội dung" if result.approved else "Lý do không chấp thuận", result.content)
    )
    if result.verification_url:
        blocks.append(
            QrCode(
                result.verification_url,
                caption="Quét mã để kiểm tra chữ ký số và tính toàn vẹn của văn bản.",
            )
        )
    blocks.append(
        Signatures(
            (SignatureBlock(title=result.signer_title, hint="(Đã ký số)", name=result.signer_name),)
        )
    )
    return OfficialDocument(
        issuer=result.issuer,
        title=TITLE,
        issued_at=result.issued_at,
        number=result.number,
        place=result.place,
        blocks=tuple(blocks),
        subject=f"Kết quả giải quyết hồ sơ {result.dossier_code}",
        author=result.issuer[-1] if result.issuer else None,
    )


def render_result_pdf(result: ResultDocument) -> bytes:
    """The unsigned result document as PDF bytes; the same result always gives the same bytes."""
    return render_pdf(result_document(result))
