"""A development certificate authority and per-agency signing credentials.

The embedded development stack has no access to a real CA (VNPT-CA, Viettel-CA, the government
CA of the Ban Cơ yếu Chính phủ), yet result documents must still be signed and verified end to
end. On first use this module creates a root CA under a directory and, per agency, an ECDSA P-256
key with a certificate issued by that root, shaped like a document-signing certificate:

    <directory>/root-ca.key.pem, root-ca.cert.pem
    <directory>/agencies/<agency code>.key.pem, <agency code>.cert.pem

Several services of the stack may start at the same moment, so every creation runs under an
exclusive ``flock`` on ``<directory>/.lock`` and every file is written to a temporary name and
renamed into place: a reader never sees half a file, and two processes never issue two roots.
Keys are stored unencrypted with mode 0600; this is a development CA and nothing it issues may be
trusted outside a development stack.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

ROOT_COMMON_NAME = "Một Cửa Development CA"
ROOT_ORGANISATION = "Một Cửa (development)"
ROOT_VALIDITY = dt.timedelta(days=10 * 365)
AGENCY_VALIDITY = dt.timedelta(days=2 * 365)
# A credential this close to expiry is replaced rather than reused, so a long-running stack
# never signs with a certificate that expires before the document is even verified.
RENEW_BEFORE = dt.timedelta(days=30)
# Certificates are back-dated a little so a verifier whose clock lags does not reject them.
CLOCK_SKEW = dt.timedelta(minutes=5)

# RFC 9336 id-kp-documentSigning: the key purpose meant for signing human-readable documents.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

# Agency codes (mã định danh, e.g. ``000.00.12.H29``) become file names: letters, digits, dots,
# dashes and underscores only, never starting with a dot, so no code can leave the directory.
_AGENCY_CODE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Credential:
    """A private key file and its certificate file, both PEM, with the certificate parsed."""

    key_file: Path
    cert_file: Path
    certificate: x509.Certificate


class InvalidAgencyCode(ValueError):
    """The agency code cannot name a file (empty, too long, or with path characters)."""


class DevelopmentPki:
    """The development CA rooted at ``directory``; ``now`` is passed in so tests control time."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    @property
    def agencies_directory(self) -> Path:
        return self.directory / "agencies"

    def root(self, *, now: dt.datetime | None = None) -> Credential:
        """The root CA, created on first call and reused afterwards."""
        now = _utc(now)
        with self._locked():
            return self._ensure_root(now)

    def agency(
        self, agency_code: str, agency_name: str, *, now: dt.datetime | None = None
    ) -> Credential:
        """The signing credential of an agency, issued by the root on first call.

        An existing credential is reused while it still names the agency the same way, was
        issued by the current root and is not about to expire; otherwise a new one replaces it.
        """
        if not _AGENCY_CODE.fullmatch(agency_code) or ".." in agency_code:
            raise InvalidAgencyCode(f"agency code {agency_code!r} cannot name a credential file")
        if not agency_name.strip():
            raise ValueError("agency name must not be empty")
        now = _utc(now)
        with self._locked():
            root = self._ensure_root(now)
            key_file = self.agencies_directory / f"{agency_code}.key.pem"
            cert_file = self.agencies_directory / f"{agency_code}.cert.pem"
            subject = _agency_subject(agency_code, agency_name)
            existing = _read_certificate(cert_file) if key_file.exists() else None
            if (
                existing is not None
                and _still_good(existing, subject, root.certificate, now)
                and _pair_matches(key_file, existing)
            ):
                return Credential(key_file, cert_file, existing)
            root_key = _read_key(root.key_file)
            key = ec.generate_private_key(ec.SECP256R1())
            certificate = _issue_agency(key, subject, root.certificate, root_key, now)
            _write_atomically(key_file, _key_pem(key), private=True)
            _write_atomically(cert_file, certificate.public_bytes(serialization.Encoding.PEM))
            return Credential(key_file, cert_file, certificate)

    def _ensure_root(self, now: dt.datetime) -> Credential:
        key_file = self.directory / "root-ca.key.pem"
        cert_file = self.directory / "root-ca.cert.pem"
        existing = _read_certificate(cert_file) if key_file.exists() else None
        if existing is not None and _pair_matches(key_file, existing):
            # Agency certificates reference the root; replacing it would silently invalidate every
            # document already signed, so an existing root is kept even near its expiry.
            return Credential(key_file, cert_file, existing)
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _issue_root(key, now)
        _write_atomically(key_file, _key_pem(key), private=True)
        _write_atomically(cert_file, certificate.public_bytes(serialization.Encoding.PEM))
        return Credential(key_file, cert_file, certificate)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.agencies_directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return now.astimezone(dt.UTC)


def _root_subject() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ROOT_ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_COMMON_NAME),
        ]
    )


def _agency_subject(agency_code: str, agency_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency_code),
            x509.NameAttribute(NameOID.COMMON_NAME, agency_name.strip()),
        ]
    )


def _issue_root(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = _root_subject()
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _issue_agency(
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    root: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> x509.Certificate:
    public = key.public_key()
    not_after = min(now + AGENCY_VALIDITY, root.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # digitalSignature + nonRepudiation (contentCommitment): the pair that marks a key
            # for signatures a person or body stands behind, as PAdES validators expect.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            # documentSigning for RFC 9336 validators; emailProtection because older PDF readers
            # only accept that purpose from the standard set for document signatures.
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(_issuer_key(root)),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


def _still_good(
    certificate: x509.Certificate, subject: x509.Name, root: x509.Certificate, now: dt.datetime
) -> bool:
    if certificate.subject != subject or certificate.issuer != root.subject:
        return False
    if certificate.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _pair_matches(key_file: Path, certificate: x509.Certificate) -> bool:
    # The key and the certificate are two renames; a crash between them may leave a new key
    # beside an old certificate, which must then be reissued rather than reused.
    try:
        key = _read_key(key_file)
    except (FileNotFoundError, ValueError, TypeError):
        return False
    return key.public_key() == certificate.public_key()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _read_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an ECDSA key")
    return key


def _read_certificate(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None


def _write_atomically(path: Path, content: bytes, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            if not private:
                os.fchmod(out.fileno(), 0o644)
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _issuer_key(root: x509.Certificate) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """The root's public key, of a kind an authority key identifier can name."""
    key = root.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise TypeError(f"unexpected root key type {type(key).__name__}")
    return key
