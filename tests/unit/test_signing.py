"""Signed results: the development CA, PAdES signing with an agency key, and verification."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from workflow_service.signing import (
    AgencySigner,
    Credential,
    DevelopmentPki,
    Failure,
    InvalidAgencyCode,
    ResultDocument,
    RevocationPolicy,
    SignerMaterialInvalid,
    SigningFailed,
    async_sign_pdf,
    async_verify_pdf,
    render_result_pdf,
    sign_pdf,
    verify_pdf,
)
from workflow_service.signing.dev_pki import DOCUMENT_SIGNING, ROOT_COMMON_NAME

AGENCY_CODE = "000.00.12.H29"
AGENCY_NAME = "UBND phường Hàng Bạc"
SIGNED_AT = dt.datetime(2026, 3, 12, 3, 0, tzinfo=dt.UTC)  # 10:00 in Hà Nội

RESULT = ResultDocument(
    issuer=("UBND QUẬN HOÀN KIẾM", "UBND PHƯỜNG HÀNG BẠC"),
    dossier_code="00070-260305-0001",
    procedure_code="1.001193",
    procedure_name="Đăng ký khai sinh",
    applicant_name="Đặng Thị Ngữ Ư",
    applicant_address="Số 5 phố Hàng Bạc, phường Hàng Bạc, Hà Nội",
    approved=True,
    content="Cấp Giấy khai sinh số 123/2026 cho cháu Nguyễn Hữu Đức.",
    issued_at=SIGNED_AT,
    signer_title="CHỦ TỊCH",
    signer_name="Trần Quốc Việt",
    number="45/TB-UBND",
    place="Hàng Bạc",
    verification_url="https://dichvucong.hanoi.gov.vn/ket-qua/00070-260305-0001",
)


def load_signer(pki: DevelopmentPki, code: str = AGENCY_CODE, name: str = AGENCY_NAME):
    credential = pki.agency(code, name)
    return AgencySigner.load(credential.key_file, credential.cert_file, [pki.root().cert_file])


def sign(pdf: bytes, signer: AgencySigner) -> bytes:
    return sign_pdf(
        pdf, signer, reason="Phê duyệt kết quả giải quyết", location="Hàng Bạc", signed_at=SIGNED_AT
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def root(pki: DevelopmentPki) -> Credential:
    return pki.root()


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render_result_pdf(RESULT)


@pytest.fixture(scope="module")
def signed(pki: DevelopmentPki, unsigned: bytes) -> bytes:
    return sign(unsigned, load_signer(pki))


def signed_range(pdf: bytes) -> tuple[int, int, int, int]:
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert found is not None
    start, first, second, length = (int(n) for n in found.groups())
    return start, first, second, length


# --- signing and verifying -------------------------------------------------------------------


def test_signed_result_verifies_naming_the_signer_and_the_agency(
    signed: bytes, root: Credential
) -> None:
    result = verify_pdf(signed, [root.certificate])

    assert result.valid and result.intact and result.trusted
    assert result.signer_name == AGENCY_NAME
    assert result.signer_agency == AGENCY_CODE
    assert result.signed_at == SIGNED_AT
    assert result.signature_count == 1
    assert result.sha256 == hashlib.sha256(signed).hexdigest()
    assert result.failure is None and result.reason is None and result.reason_vi is None


def test_signature_covers_the_whole_file_and_keeps_the_original_as_first_revision(
    signed: bytes, unsigned: bytes
) -> None:
    start, first, second, length = signed_range(signed)

    assert signed.startswith(unsigned)
    assert start == 0 and second + length == len(signed) and first < second


def test_trust_roots_may_be_given_as_pem_bytes(signed: bytes, root: Credential) -> None:
    assert verify_pdf(signed, [root.cert_file.read_bytes()]).valid


def test_one_byte_changed_inside_the_signed_range_breaks_integrity(
    signed: bytes, root: Credential
) -> None:
    _, first, _, _ = signed_range(signed)
    # A byte inside the first page's compressed content stream: the file still parses, but what
    # it shows is no longer what was signed.
    position = signed.index(b"stream\n") + 40
    assert position < first
    tampered = signed[:position] + bytes([signed[position] ^ 0x01]) + signed[position + 1 :]

    result = verify_pdf(tampered, [root.certificate])

    assert not result.valid and not result.intact
    assert result.failure is Failure.tampered
    assert result.reason_vi and "thay đổi" in result.reason_vi
    assert result.reason and "altered" in result.reason
    assert result.sha256 == hashlib.sha256(tampered).hexdigest()


def test_content_added_in_an_incremental_update_after_signing_is_reported_modified(
    signed: bytes, root: Credential
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    # A filled rectangle drawn over the first page, e.g. to hide the result's content.
    overlay = writer.add_object(generic.StreamObject(stream_data=b"1 1 1 rg 80 400 400 200 re f"))
    writer.add_stream_to_page(0, overlay)
    out = io.BytesIO()
    writer.write(out)
    modified = out.getvalue()
    assert modified.startswith(signed)

    result = verify_pdf(modified, [root.certificate])

    assert not result.valid and not result.intact
    assert result.failure is Failure.modified_after_signing
    assert result.signer_name == AGENCY_NAME


def test_signature_by_a_key_of_another_ca_is_intact_but_not_trusted(
    tmp_path: Path, unsigned: bytes, root: Credential
) -> None:
    other = DevelopmentPki(tmp_path / "other")
    forged = sign(unsigned, load_signer(other))

    result = verify_pdf(forged, [root.certificate])

    assert result.intact
    assert not result.trusted and not result.valid
    assert result.failure is Failure.untrusted
    assert result.signer_agency == AGENCY_CODE  # the claim is reported, but not believed
    assert verify_pdf(forged, [other.root().certificate]).valid


def test_nothing_is_trusted_without_trust_roots(signed: bytes) -> None:
    result = verify_pdf(signed, [])

    assert result.intact and not result.trusted
    assert result.failure is Failure.untrusted


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"%PDF-1.7\n%%EOF", b"\x00" * 1024, b"%PDF-1.4\n1 0 obj <<"],
    ids=["empty", "text", "header-only", "zeros", "truncated"],
)
def test_input_that_is_not_a_pdf_gives_a_reason_not_an_exception(
    content: bytes, root: Credential
) -> None:
    result = verify_pdf(content, [root.certificate])

    assert not result.valid and not result.intact and not result.trusted
    assert result.failure is Failure.not_pdf
    assert result.reason_vi == "Tệp không phải là tài liệu PDF hợp lệ hoặc đã bị hỏng."
    assert result.sha256 == hashlib.sha256(content).hexdigest()


def test_unsigned_pdf_is_not_valid(unsigned: bytes, root: Credential) -> None:
    result = verify_pdf(unsigned, [root.certificate])

    assert not result.valid
    assert result.failure is Failure.unsigned
    assert result.signature_count == 0
    assert result.reason == "The document carries no digital signature."
    assert dataclasses.asdict(result)["reason_vi"] == "Tài liệu không có chữ ký số."


def test_truncated_signed_pdf_does_not_verify(signed: bytes, root: Credential) -> None:
    result = verify_pdf(signed[: len(signed) - 200], [root.certificate])

    # The cut removes the final cross-reference section, so the file no longer parses.
    assert not result.valid
    assert result.failure is Failure.not_pdf


def test_damaged_signature_container_is_reported_not_raised(
    signed: bytes, root: Credential
) -> None:
    _, first, _, _ = signed_range(signed)
    # Overwrite the start of the hex CMS blob (just after "<") with a valid-looking hex run.
    damaged = signed[: first + 1] + b"00" * 16 + signed[first + 33 :]

    result = verify_pdf(damaged, [root.certificate])

    assert not result.valid and not result.intact
    assert result.failure is Failure.malformed_signature
    assert result.signature_count == 1


def test_revoked_agency_certificate_is_refused_when_a_crl_is_supplied(
    pki: DevelopmentPki, root: Credential, signed: bytes
) -> None:
    agency = pki.agency(AGENCY_CODE, AGENCY_NAME)
    now = dt.datetime.now(dt.UTC)

    def crl(revoke: bool) -> bytes:
        root_key = serialization.load_pem_private_key(root.key_file.read_bytes(), password=None)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(root.certificate.subject)
            .last_update(now - dt.timedelta(hours=1))
            .next_update(now + dt.timedelta(days=1))
            .add_extension(x509.CRLNumber(1), critical=False)
        )
        if revoke:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(agency.certificate.serial_number)
                .revocation_date(now - dt.timedelta(minutes=30))
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    revoked = verify_pdf(
        signed, [root.certificate], revocation=RevocationPolicy(mode="require", crls=(crl(True),))
    )
    clean = verify_pdf(
        signed, [root.certificate], revocation=RevocationPolicy(mode="require", crls=(crl(False),))
    )
    missing = verify_pdf(signed, [root.certificate], revocation=RevocationPolicy(mode="require"))

    assert revoked.intact and not revoked.valid and revoked.failure is Failure.revoked
    assert clean.valid
    assert not missing.valid and missing.failure is Failure.untrusted


def test_validation_after_the_certificate_expired_is_not_trusted(
    signed: bytes, root: Credential, pki: DevelopmentPki
) -> None:
    expiry = pki.agency(AGENCY_CODE, AGENCY_NAME).certificate.not_valid_after_utc

    result = verify_pdf(signed, [root.certificate], validation_time=expiry + dt.timedelta(days=1))

    assert result.intact and not result.trusted
    assert result.failure is Failure.untrusted


async def test_async_variants_work_inside_a_running_event_loop(
    pki: DevelopmentPki, unsigned: bytes, root: Credential
) -> None:
    signer = load_signer(pki)
    signed = await async_sign_pdf(
        unsigned, signer, reason="Phê duyệt", location="Hàng Bạc", signed_at=SIGNED_AT
    )

    result = await async_verify_pdf(signed, [root.certificate])

    assert result.valid and result.signer_agency == AGENCY_CODE


def test_signing_records_the_given_time_reason_and_location(
    pki: DevelopmentPki, unsigned: bytes
) -> None:
    at = dt.datetime(2026, 4, 30, 8, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    signed = sign_pdf(
        unsigned, load_signer(pki), reason="Phê duyệt", location="Hà Nội", signed_at=at
    )

    fields = pypdf.PdfReader(io.BytesIO(signed)).get_fields() or {}
    signature = next(f["/V"] for f in fields.values() if f.get("/FT") == "/Sig")
    assert signature["/Reason"] == "Phê duyệt"
    assert signature["/Location"] == "Hà Nội"
    assert signature["/M"].startswith("D:20260430081530+07")
    assert signature["/SubFilter"] == "/ETSI.CAdES.detached"


def test_signing_a_non_pdf_fails_clearly(pki: DevelopmentPki) -> None:
    with pytest.raises(SigningFailed):
        sign(b"not a pdf at all", load_signer(pki))


def test_signing_time_without_time_zone_is_refused(pki: DevelopmentPki, unsigned: bytes) -> None:
    with pytest.raises(ValueError, match="time zone"):
        sign_pdf(
            unsigned,
            load_signer(pki),
            reason="Phê duyệt",
            location="Hàng Bạc",
            signed_at=dt.datetime(2026, 3, 12, 10, 0),
        )


def test_signer_refuses_a_key_that_does_not_match_its_certificate(
    pki: DevelopmentPki, root: Credential
) -> None:
    first = pki.agency(AGENCY_CODE, AGENCY_NAME)
    second = pki.agency("000.00.12.H30", "UBND phường Hàng Đào")

    with pytest.raises(SignerMaterialInvalid, match="does not match"):
        AgencySigner.load(first.key_file, second.cert_file, [root.cert_file])


def test_signer_refuses_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SignerMaterialInvalid):
        AgencySigner.load(tmp_path / "absent.key.pem", tmp_path / "absent.cert.pem")


# --- the result document ---------------------------------------------------------------------


def test_result_document_keeps_vietnamese_diacritics(unsigned: bytes) -> None:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(unsigned)).pages)

    for expected in (
        "THÔNG BÁO KẾT QUẢ GIẢI QUYẾT HỒ SƠ",
        "Đặng Thị Ngữ Ư",
        "Đăng ký khai sinh",
        "Nguyễn Hữu Đức",
        "Chấp thuận",
        "Hàng Bạc, ngày 12 tháng 3 năm 2026",
    ):
        assert expected in text


def test_rejected_result_states_the_reason(pki: DevelopmentPki) -> None:
    rejected = ResultDocument(
        issuer=RESULT.issuer,
        dossier_code=RESULT.dossier_code,
        procedure_code=RESULT.procedure_code,
        procedure_name=RESULT.procedure_name,
        applicant_name=RESULT.applicant_name,
        approved=False,
        content="Người yêu cầu không cung cấp được giấy chứng sinh.",
        issued_at=SIGNED_AT,
        signer_title="CHỦ TỊCH",
    )
    pdf = render_result_pdf(rejected)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)

    assert "Không chấp thuận" in text
    assert "Lý do không chấp thuận" in text
    assert "giấy chứng sinh" in text


def test_result_rendering_is_reproducible() -> None:
    assert render_result_pdf(RESULT) == render_result_pdf(RESULT)


# --- the development CA ----------------------------------------------------------------------


def test_development_pki_is_created_once_and_reused(tmp_path: Path) -> None:
    pki = DevelopmentPki(tmp_path)
    first_root = pki.root()
    first_agency = pki.agency(AGENCY_CODE, AGENCY_NAME)
    files = {
        path: path.read_bytes()
        for path in (
            first_root.key_file,
            first_root.cert_file,
            first_agency.key_file,
            first_agency.cert_file,
        )
    }

    again = DevelopmentPki(tmp_path)
    second_root = again.root()
    second_agency = again.agency(AGENCY_CODE, AGENCY_NAME)

    assert second_root.certificate == first_root.certificate
    assert second_agency.certificate == first_agency.certificate
    assert {path: path.read_bytes() for path in files} == files
    assert first_agency.key_file == tmp_path / "agencies" / f"{AGENCY_CODE}.key.pem"
    assert first_agency.cert_file == tmp_path / "agencies" / f"{AGENCY_CODE}.cert.pem"
    assert first_root.key_file.stat().st_mode & 0o077 == 0
    assert first_agency.key_file.stat().st_mode & 0o077 == 0


def test_concurrent_first_use_creates_a_single_root(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        roots = list(pool.map(lambda _: DevelopmentPki(tmp_path).root(), range(8)))

    assert len({root.certificate.serial_number for root in roots}) == 1
    assert roots[0].certificate == x509.load_pem_x509_certificate(roots[0].cert_file.read_bytes())


def test_agency_certificate_is_a_document_signing_certificate(
    pki: DevelopmentPki, root: Credential
) -> None:
    certificate = pki.agency(AGENCY_CODE, AGENCY_NAME).certificate
    oid = x509.NameOID

    assert certificate.subject.get_attributes_for_oid(oid.COMMON_NAME)[0].value == AGENCY_NAME
    assert certificate.subject.get_attributes_for_oid(oid.ORGANIZATION_NAME)[0].value == (
        AGENCY_CODE
    )
    assert certificate.issuer == root.certificate.subject
    assert root.certificate.subject.get_attributes_for_oid(oid.COMMON_NAME)[0].value == (
        ROOT_COMMON_NAME
    )
    certificate.verify_directly_issued_by(root.certificate)

    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING in purposes
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in purposes
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_agency_credential_is_reissued_when_the_agency_is_renamed(tmp_path: Path) -> None:
    pki = DevelopmentPki(tmp_path)
    before = pki.agency(AGENCY_CODE, AGENCY_NAME)

    after = pki.agency(AGENCY_CODE, "UBND phường Hoàn Kiếm")

    assert after.certificate.serial_number != before.certificate.serial_number
    assert after.certificate.subject.rfc4514_string().startswith("CN=UBND phường Hoàn Kiếm")


def test_agency_credential_is_reissued_near_expiry(tmp_path: Path) -> None:
    pki = DevelopmentPki(tmp_path)
    issued_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    before = pki.agency(AGENCY_CODE, AGENCY_NAME, now=issued_at)

    same = pki.agency(AGENCY_CODE, AGENCY_NAME, now=issued_at + dt.timedelta(days=30))
    renewed = pki.agency(AGENCY_CODE, AGENCY_NAME, now=issued_at + dt.timedelta(days=720))

    assert same.certificate == before.certificate
    assert renewed.certificate.serial_number != before.certificate.serial_number
    assert renewed.certificate.not_valid_after_utc > before.certificate.not_valid_after_utc


@pytest.mark.parametrize("code", ["", "../escape", ".hidden", "a/b", "x" * 65, "mã"])
def test_agency_code_that_cannot_name_a_file_is_refused(tmp_path: Path, code: str) -> None:
    with pytest.raises(InvalidAgencyCode):
        DevelopmentPki(tmp_path).agency(code, AGENCY_NAME)
    assert not (tmp_path / "agencies").exists() or not any((tmp_path / "agencies").iterdir())
