"""Checking a signed result document: is it intact, who signed it, and do we trust them.

Verification never raises on what a caller uploads: a file that is not a PDF, a PDF without a
signature, or a damaged signature each give ``valid=False`` with the reason in Vietnamese and
English, ready for a problem+json answer or a verification page.

Revocation. By default nothing is fetched: no OCSP responder or CRL distribution point is
contacted, and a certificate without revocation information is accepted ("soft-fail"). That is
sound for the development CA: its certificates name no CRL or OCSP service (there is none to ask),
its keys never leave the machine that made them, and nothing it signs is trusted outside the
development stack; it also keeps verification fast and deterministic in tests. A production
deployment trusting a public CA (VNPT-CA, Viettel-CA, the government CA) passes a
:class:`RevocationPolicy`:

- ``RevocationPolicy(allow_fetching=True, mode="hard-fail")`` asks the OCSP responders and CRL
  distribution points each certificate names, and fails when they cannot be reached;
- ``RevocationPolicy(mode="require", crls=..., ocsps=...)`` stays offline with revocation data a
  scheduled job downloaded, and refuses any certificate the data does not cover. ("soft-fail"
  and "hard-fail" only consult revocation data for certificates that name a source of it.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)

# The signer's certificate must allow signatures someone stands behind: nonRepudiation
# (contentCommitment) or digitalSignature, either suffices. Extended key usages are not
# restricted: certificates of Vietnamese public CAs carry various purposes, and RFC 5280 lets a
# relying party decide.
SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"})

# Incremental updates that may follow a signature without changing what was signed: validation
# data (DSS) and document timestamps added for long-term validation.
_HARMLESS_UPDATES = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)


class Failure(StrEnum):
    """Why a document did not verify, as a stable code for clients."""

    not_pdf = "not_pdf"
    unsigned = "unsigned"
    malformed_signature = "malformed_signature"
    tampered = "tampered"
    modified_after_signing = "modified_after_signing"
    revoked = "revoked"
    untrusted = "untrusted"


# (Vietnamese, English) for each failure, in the words shown to an officer or a citizen.
REASONS: dict[Failure, tuple[str, str]] = {
    Failure.not_pdf: (
        "Tệp không phải là tài liệu PDF hợp lệ hoặc đã bị hỏng.",
        "The file is not a valid PDF document or is damaged.",
    ),
    Failure.unsigned: (
        "Tài liệu không có chữ ký số.",
        "The document carries no digital signature.",
    ),
    Failure.malformed_signature: (
        "Chữ ký số trong tài liệu bị hỏng hoặc không đọc được.",
        "The digital signature in the document is damaged or unreadable.",
    ),
    Failure.tampered: (
        "Nội dung tài liệu đã bị thay đổi sau khi ký: mã băm không khớp với chữ ký.",
        "The document was altered after signing: its hash does not match the signature.",
    ),
    Failure.modified_after_signing: (
        "Tài liệu đã bị bổ sung hoặc sửa đổi sau khi ký.",
        "Content was added to or changed in the document after it was signed.",
    ),
    Failure.revoked: (
        "Chứng thư số của người ký đã bị thu hồi.",
        "The signer's certificate has been revoked.",
    ),
    Failure.untrusted: (
        "Chứng thư số của người ký không do tổ chức chứng thực tin cậy cấp hoặc không còn hiệu lực.",
        "The signer's certificate is not issued by a trusted authority or is no longer valid.",
    ),
}


@dataclass(frozen=True)
class RevocationPolicy:
    """How certificate revocation is checked; see the module documentation."""

    allow_fetching: bool = False
    mode: Literal["soft-fail", "hard-fail", "require"] = "soft-fail"
    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()


OFFLINE = RevocationPolicy()


@dataclass(frozen=True)
class Verification:
    """What a verifier learnt about a document.

    ``intact``: every signature's hash matches and nothing but validation data was added after
    signing. ``trusted``: every signer's certificate chains to one of the given roots and is
    valid now. ``valid``: both. The signer fields describe the latest signature; ``signed_at`` is
    the time the signer put in the signature (there is no timestamp authority's token).
    """

    valid: bool
    intact: bool
    trusted: bool
    sha256: str
    signature_count: int = 0
    signer_name: str | None = None
    signer_agency: str | None = None
    signed_at: dt.datetime | None = None
    failure: Failure | None = None
    # Derived from ``failure``; fields rather than properties so that serialising the result
    # (``dataclasses.asdict``, a pydantic model built from it) carries the words too.
    reason_vi: str | None = field(init=False)
    reason: str | None = field(init=False)

    def __post_init__(self) -> None:
        vi, en = REASONS[self.failure] if self.failure else (None, None)
        object.__setattr__(self, "reason_vi", vi)
        object.__setattr__(self, "reason", en)


@dataclass(frozen=True)
class _SignatureCheck:
    intact: bool
    trusted: bool
    failure: Failure | None
    signer_name: str | None = None
    signer_agency: str | None = None
    signed_at: dt.datetime | None = None


TrustRoot = x509.Certificate | bytes


def verify_pdf(
    pdf_bytes: bytes,
    trust_roots: Iterable[TrustRoot],
    *,
    revocation: RevocationPolicy = OFFLINE,
    validation_time: dt.datetime | None = None,
) -> Verification:
    """Verify every signature of ``pdf_bytes`` against ``trust_roots`` (certificates, or PEM or
    DER bytes). ``validation_time`` defaults to now."""
    return asyncio.run(
        async_verify_pdf(
            pdf_bytes, trust_roots, revocation=revocation, validation_time=validation_time
        )
    )


async def async_verify_pdf(
    pdf_bytes: bytes,
    trust_roots: Iterable[TrustRoot],
    *,
    revocation: RevocationPolicy = OFFLINE,
    validation_time: dt.datetime | None = None,
) -> Verification:
    """:func:`verify_pdf` for code running inside an event loop."""
    digest = hashlib.sha256(pdf_bytes).hexdigest()
    roots = [anchor for root in trust_roots for anchor in _anchors(root)]

    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        filled_fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception:  # any parser failure on uploaded bytes means "not a readable PDF"
        logger.debug("unreadable PDF", exc_info=True)
        return _refused(digest, Failure.not_pdf)
    if not filled_fields:
        return _refused(digest, Failure.unsigned)
    try:
        # Reading a signature parses its CMS container, which a damaged file may break; a
        # signature of a kind pyhanko does not know (an unsupported SubFilter) is left out.
        signatures = list(reader.embedded_signatures)
    except Exception:
        logger.debug("unreadable signature", exc_info=True)
        signatures = []
    if not signatures:
        return _refused(digest, Failure.malformed_signature, len(filled_fields))

    checks = [
        await _check(signature, roots, revocation, validation_time) for signature in signatures
    ]
    latest = checks[-1]
    failures = [check.failure for check in checks if check.failure is not None]
    intact = all(check.intact for check in checks)
    trusted = all(check.trusted for check in checks)
    return Verification(
        valid=not failures,
        intact=intact,
        trusted=trusted,
        sha256=digest,
        signature_count=len(checks),
        signer_name=latest.signer_name,
        signer_agency=latest.signer_agency,
        signed_at=latest.signed_at,
        failure=_most_serious(failures),
    )


def _refused(digest: str, failure: Failure, signature_count: int = 0) -> Verification:
    return Verification(
        valid=False,
        intact=False,
        trusted=False,
        sha256=digest,
        signature_count=signature_count,
        failure=failure,
    )


async def _check(
    signature: EmbeddedPdfSignature,
    roots: Sequence[asn1_x509.Certificate],
    revocation: RevocationPolicy,
    validation_time: dt.datetime | None,
) -> _SignatureCheck:
    context = ValidationContext(
        trust_roots=list(roots),
        moment=validation_time,
        allow_fetching=revocation.allow_fetching,
        revocation_mode=revocation.mode,
        crls=list(revocation.crls),
        ocsps=list(revocation.ocsps),
    )
    try:
        status: PdfSignatureStatus = await async_validate_pdf_signature(
            signature, signer_validation_context=context, key_usage_settings=SIGNER_KEY_USAGE
        )
    except Exception:
        # pyhanko raises SignatureValidationError for a malformed container, but a damaged
        # signature dictionary can also fail deep inside the PDF parser with any error type.
        logger.debug("signature could not be validated", exc_info=True)
        return _SignatureCheck(intact=False, trusted=False, failure=Failure.malformed_signature)

    hash_ok = status.intact and status.valid
    unchanged = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in _HARMLESS_UPDATES
        and status.docmdp_ok is not False
    )
    if not hash_ok:
        failure: Failure | None = Failure.tampered
    elif not unchanged:
        failure = Failure.modified_after_signing
    elif status.revoked:
        failure = Failure.revoked
    elif not status.trusted:
        failure = Failure.untrusted
    else:
        failure = None

    subject = status.signing_cert.subject.native if status.signing_cert is not None else {}
    return _SignatureCheck(
        intact=hash_ok and unchanged,
        trusted=status.trusted,
        failure=failure,
        signer_name=subject.get("common_name"),
        signer_agency=subject.get("organization_name"),
        signed_at=status.signer_reported_dt,
    )


_SEVERITY = list(Failure)


def _most_serious(failures: Sequence[Failure]) -> Failure | None:
    # Enum order runs from "cannot read" to "cannot trust": a broken hash matters more to the
    # reader than an unknown issuer, so that is the reason shown.
    return min(failures, key=_SEVERITY.index) if failures else None


def _anchors(root: TrustRoot) -> list[asn1_x509.Certificate]:
    if isinstance(root, x509.Certificate):
        return [asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))]
    # PEM may hold several certificates (a CA bundle); DER holds one.
    return list(load_certs_from_pemder_data(root))
