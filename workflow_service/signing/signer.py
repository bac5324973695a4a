"""PAdES signatures on result documents with an agency's X.509 key.

Signing is entirely local: no timestamp authority is asked and no revocation data is fetched or
embedded, so it works on a machine with no network (the development stack, a desk in a commune
with a poor line). The signature is PAdES baseline B-B: a detached CMS container over the whole
file as it was, in an incremental update (ETSI.CAdES.detached).

``sign_pdf`` suits synchronous code and worker threads; code already running in an event loop
(a FastAPI route) awaits ``async_sign_pdf`` instead, since the former starts its own loop.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore

# The field the result signature goes into; a verifier looks for it by this name first.
RESULT_SIGNATURE_FIELD = "ChuKySoKetQua"


class SigningFailed(ValueError):
    """The document could not be signed: not a PDF, or a PDF that forbids further signatures."""


class SignerMaterialInvalid(ValueError):
    """The key or certificate files are missing, unreadable, or do not belong together."""


@dataclass(frozen=True)
class AgencySigner:
    """An agency's signing key with its certificate and the chain to embed beside it."""

    signer: signers.SimpleSigner
    certificate: x509.Certificate

    @property
    def name(self) -> str:
        """The certificate's common name: the agency as it signs (``UBND phường Hoàn Kiếm``)."""
        return _attribute(self.certificate.subject, x509.NameOID.COMMON_NAME) or ""

    @property
    def agency_code(self) -> str | None:
        """The certificate's organisation: the agency code in development certificates."""
        return _attribute(self.certificate.subject, x509.NameOID.ORGANIZATION_NAME)

    @classmethod
    def load(
        cls,
        key_file: Path | str,
        cert_file: Path | str,
        chain: Sequence[Path | str] = (),
        *,
        key_passphrase: bytes | None = None,
    ) -> AgencySigner:
        """Read the key, its certificate and the issuing chain from PEM (or DER) files.

        The chain (intermediate and root certificates) is embedded in each signature so that a
        verifier holding only the root can build the path.
        """
        try:
            key_info: asn1_keys.PrivateKeyInfo = load_private_key_from_pemder(
                str(key_file), passphrase=key_passphrase
            )
            certificate: asn1_x509.Certificate = load_cert_from_pemder(str(cert_file))
            chain_certificates = list(load_certs_from_pemder([str(path) for path in chain]))
        except (OSError, ValueError, TypeError) as error:
            raise SignerMaterialInvalid(f"cannot read signing material: {error}") from error

        parsed = x509.load_der_x509_certificate(certificate.dump())
        private = serialization.load_der_private_key(key_info.dump(), password=None)
        # A key beside someone else's certificate would give signatures that never verify;
        # refusing at load time turns that into a configuration error instead.
        if private.public_key() != parsed.public_key():
            raise SignerMaterialInvalid(f"the key in {key_file} does not match {cert_file}")

        registry = SimpleCertificateStore()
        registry.register_multiple(chain_certificates)
        signer = signers.SimpleSigner(
            signing_cert=certificate, signing_key=key_info, cert_registry=registry
        )
        return cls(signer=signer, certificate=parsed)


class _PdfSignerAt(signers.PdfSigner):
    """A PDF signer whose signing time is given rather than read from the system clock, so the
    time in the signature is the time the workflow recorded for the decision."""

    def __init__(self, meta: signers.PdfSignatureMetadata, signer: signers.Signer, at: dt.datetime):
        super().__init__(meta, signer)
        self._at = at

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._at
        return session


def _prepare(
    pdf_bytes: bytes,
    signer: AgencySigner,
    reason: str,
    location: str,
    signed_at: dt.datetime,
    field_name: str,
) -> tuple[_PdfSignerAt, IncrementalPdfFileWriter]:
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must carry a time zone")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as error:
        raise SigningFailed(f"not a readable PDF: {error}") from error
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=signer.name or None,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        # Offline: no revocation data gathered, no document timestamp requested.
        embed_validation_info=False,
        use_pades_lta=False,
    )
    return _PdfSignerAt(meta, signer.signer, signed_at), writer


def sign_pdf(
    pdf_bytes: bytes,
    signer: AgencySigner,
    *,
    reason: str,
    location: str,
    signed_at: dt.datetime,
    field_name: str = RESULT_SIGNATURE_FIELD,
) -> bytes:
    """The document with a PAdES signature of ``signer`` appended as an incremental update.

    ``signed_at`` is written into the signature to the second (PDF dates carry no fraction).
    """
    pdf_signer, writer = _prepare(pdf_bytes, signer, reason, location, signed_at, field_name)
    try:
        output = pdf_signer.sign_pdf(writer)
    except (SigningError, PdfError) as error:
        raise SigningFailed(str(error)) from error
    return output.getvalue()


async def async_sign_pdf(
    pdf_bytes: bytes,
    signer: AgencySigner,
    *,
    reason: str,
    location: str,
    signed_at: dt.datetime,
    field_name: str = RESULT_SIGNATURE_FIELD,
) -> bytes:
    """:func:`sign_pdf` for code running inside an event loop."""
    pdf_signer, writer = _prepare(pdf_bytes, signer, reason, location, signed_at, field_name)
    try:
        output = await pdf_signer.async_sign_pdf(writer)
    except (SigningError, PdfError) as error:
        raise SigningFailed(str(error)) from error
    return output.getvalue()


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode()
