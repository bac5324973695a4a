"""Who signs a result and with which key: the issuing agency as the agencies table names it,
and the agencies' signing keys (production files, or the development CA)."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog
from vietnam_provinces import Province, ProvinceCode, Ward, WardCode

from shared.vocabulary import AGENCY_KIND_LABELS_VI, AgencyKind
from workflow_service.db.models import Agency
from workflow_service.signing import AgencySigner, DevelopmentPki
from workflow_service.signing.dev_pki import RENEW_BEFORE

log = structlog.get_logger(__name__)


# ----- who signs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """The agency a result is issued by: its name as it signs, and the document's header."""

    agency_code: str
    name: str
    header: tuple[str, ...]
    place: str | None


# Bodies under a national ministry or agency rather than the province's people's committee:
# their documents carry their own name alone in the header.
_NATIONAL_LINE_KINDS = {
    AgencyKind.tax_authority,
    AgencyKind.police,
    AgencyKind.social_insurance,
}


def issuer_of(agency: Agency | None, agency_code: str) -> Issuer:
    """The agency a result is issued by, named as the agencies table names it (``Bộ phận Một
    cửa Phường Hoàn Kiếm``), with the document's header from its kind and unit. An agency the
    table does not know signs under its code."""
    if agency is None:
        return Issuer(agency_code, agency_code, (agency_code.upper(),), None)
    try:
        kind: AgencyKind | None = AgencyKind(agency.kind)
    except ValueError:
        kind = None
    label = AGENCY_KIND_LABELS_VI[kind] if kind else None
    if label and agency.name.startswith(label + " "):
        unit: str | None = agency.name.removeprefix(label + " ")
    else:
        unit = _unit_name(agency.unit_code, ward="." in agency.unit_path)
    if kind is None or label is None or kind in _NATIONAL_LINE_KINDS or unit is None:
        return Issuer(agency.code, agency.name, (agency.name.upper(),), unit)
    return Issuer(agency.code, agency.name, (f"UBND {unit}".upper(), label.upper()), unit)


@functools.lru_cache(maxsize=4096)
def _unit_name(code: str, *, ward: bool) -> str | None:
    if not code.isdigit():
        return None
    try:
        if ward:
            return Ward.from_code(WardCode(int(code))).name
        province = Province.from_code(ProvinceCode(int(code)))
    except (ValueError, KeyError, LookupError):
        return None
    # Ward names and city names carry their kind ("Phường Hoàn Kiếm", "Thành phố Hà Nội");
    # province names do not ("Nghệ An").
    if province.division_type.value == "tỉnh" and not province.name.startswith("Tỉnh"):
        return f"Tỉnh {province.name}"
    return province.name


class SigningKeys:
    """Where agencies' signing keys come from.

    Production (``signing_keys_dir`` set): ``<agency_code>.key.pem``, ``<agency_code>.cert.pem``
    and optionally ``<agency_code>.chain.pem`` in that directory, issued by a public CA; replaced
    files are picked up on the next signature. Otherwise the development CA under ``pki_dir``
    issues each agency a key on first use.

    Methods touch files and may create keys: call them from a worker thread.
    """

    def __init__(
        self,
        pki_dir: Path,
        keys_dir: Path | None = None,
        trust_roots_file: Path | None = None,
    ) -> None:
        self.pki = DevelopmentPki(pki_dir)
        self.keys_dir = keys_dir
        self.trust_roots_file = trust_roots_file
        self._signers: dict[str, tuple[object, AgencySigner]] = {}
        self._roots: list[bytes] | None = None
        self._lock = threading.Lock()

    def signer(self, issuer: Issuer) -> AgencySigner | None:
        """The agency's signer, or None when production keys name no such agency."""
        if self.keys_dir is None:
            return self._development_signer(issuer)
        key_file = self.keys_dir / f"{issuer.agency_code}.key.pem"
        cert_file = self.keys_dir / f"{issuer.agency_code}.cert.pem"
        chain_file = self.keys_dir / f"{issuer.agency_code}.chain.pem"
        if "/" in issuer.agency_code or not key_file.is_file() or not cert_file.is_file():
            return None
        chain = [chain_file] if chain_file.is_file() else []
        stamp = tuple(path.stat().st_mtime_ns for path in (key_file, cert_file, *chain))
        cached = self._signers.get(issuer.agency_code)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        signer = AgencySigner.load(key_file, cert_file, chain)
        with self._lock:
            self._signers[issuer.agency_code] = (stamp, signer)
        return signer

    def _development_signer(self, issuer: Issuer) -> AgencySigner:
        cached = self._signers.get(issuer.agency_code)
        now = dt.datetime.now(dt.UTC)
        if cached is not None:
            stamp, signer = cached
            if stamp == issuer.name and signer.certificate.not_valid_after_utc - RENEW_BEFORE > now:
                return signer
        credential = self.pki.agency(issuer.agency_code, issuer.name)
        signer = AgencySigner.load(
            credential.key_file, credential.cert_file, [self.pki.root().cert_file]
        )
        with self._lock:
            self._signers[issuer.agency_code] = (issuer.name, signer)
        return signer

    def trust_roots(self) -> list[bytes]:
        """PEM of the roots a signed result must chain to."""
        if self._roots is None:
            if self.trust_roots_file is not None:
                roots = [self.trust_roots_file.read_bytes()]
            elif self.keys_dir is None:
                roots = [self.pki.root().cert_file.read_bytes()]
            else:
                # Production keys without roots to check them against: nothing is trusted,
                # rather than trusting a development CA that production never issued.
                log.warning("signing_trust_roots_file is not set: no signed result will verify")
                roots = []
            self._roots = roots
        return self._roots
