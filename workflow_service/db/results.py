"""Signed electronic results (kết quả điện tử có ký số): issuing one when a case is resolved or
rejected, keeping it beside the case, and finding it again by case or by hash.

Issuing is split in two so that the case's row lock is never held while a PDF is drawn and
signed (a few hundred milliseconds of CPU on the development machine, most of it drawing):

1. :func:`prepare` reads the case as it stands at the version the officer named, in a short
   read-only transaction, then renders and signs the document in a worker thread with no
   database connection held.
2. The action's own transaction locks the row and checks that version (``If-Match``); a case
   still at that version is exactly the case the document describes (every change of a case
   bumps its version), so :func:`keep` stores the prepared document in that transaction, beside
   the resolution and its ``CaseResolved`` event. When the version moved on, the action is
   refused with 412 and the prepared document is simply dropped.

A document that cannot be signed (no key for the agency, unreadable key files) does not block
the resolution: the case is resolved without an electronic result and the event says so
(``result_digitised=False``), which is what the result digitisation rate counts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from vietnam_provinces import Province, Ward

from shared.auth import Principal
from workflow_service.db import progress
from workflow_service.db.models import Case, SignedResult, Step
from workflow_service.db.scope import case_scope
from workflow_service.domain import authority
from workflow_service.domain import cases as rules
from workflow_service.domain.assignment import PROVINCE_AGENCY_PREFIXES, WARD_AGENCY_PREFIXES
from workflow_service.signing import (
    AgencySigner,
    DevelopmentPki,
    ResultDocument,
    render_result_pdf,
    sign_pdf,
)
from workflow_service.signing.dev_pki import RENEW_BEFORE

log = structlog.get_logger(__name__)

SIGNING_ACTIONS = (rules.CaseAction.resolve, rules.CaseAction.reject)

# The Vietnamese name of each kind of agency, as intake's reference data names them.
_KIND_NAMES_VI = {
    "one_stop_desk": "Bộ phận Một cửa",
    "commune_justice": "Tư pháp - Hộ tịch",
    "specialist_office": "Phòng chuyên môn",
    "public_service_centre": "Trung tâm Phục vụ hành chính công",
    "land_registration_office": "Văn phòng Đăng ký đất đai",
    "tax_authority": "Thuế",
    "police": "Công an",
    "social_insurance": "Bảo hiểm xã hội",
}
_WARD_KINDS = {prefix: kind for kind, prefix in WARD_AGENCY_PREFIXES.items()}
_PROVINCE_KINDS = {prefix: kind for kind, prefix in PROVINCE_AGENCY_PREFIXES.items()}


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
_NATIONAL_LINE_KINDS = {"tax_authority", "police", "social_insurance"}


@functools.lru_cache(maxsize=4096)
def issuer_of(agency_code: str) -> Issuer:
    """The agency behind a code such as ``motcua-00070`` or ``congan-01``, named as intake's
    reference data names it (``Bộ phận Một cửa Phường Hoàn Kiếm``). A code of another shape (a
    branch office a step was transferred to) signs under its code."""
    prefix, _, rest = agency_code.partition("-")
    unit_code = rest.split("-", 1)[0]
    kind = _WARD_KINDS.get(prefix) or _PROVINCE_KINDS.get(prefix)
    unit = _unit_name(unit_code, ward=prefix in _WARD_KINDS) if kind else None
    if kind is None or unit is None:
        return Issuer(agency_code, agency_code, (agency_code.upper(),), None)
    name = f"{_KIND_NAMES_VI[kind]} {unit}"
    if kind in _NATIONAL_LINE_KINDS:
        return Issuer(agency_code, name, (name.upper(),), unit)
    return Issuer(agency_code, name, (f"UBND {unit}".upper(), _KIND_NAMES_VI[kind].upper()), unit)


def _unit_name(code: str, *, ward: bool) -> str | None:
    if not code.isdigit():
        return None
    try:
        if ward:
            return Ward.from_code(int(code)).name
        province = Province.from_code(int(code))
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


# ----- issuing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedResult:
    """A signed document for a case at one version, waiting for the action's transaction."""

    case_id: uuid.UUID
    case_version: int
    agency_code: str
    signer_name: str
    signed_by: str
    signed_at: dt.datetime
    pdf: bytes
    sha256: str


async def prepare(
    session: AsyncSession,
    keys: SigningKeys,
    case_id: uuid.UUID,
    principal: Principal,
    officer: authority.Officer,
    expected_version: int,
    action: rules.CaseAction,
    content: str | None,
    now: dt.datetime,
) -> PreparedResult | None:
    """The signed result document of ``action`` on the case as it stands at
    ``expected_version``, or None when there is nothing to sign: the action is not one that
    ends a case, would be refused (the locked transaction then says why), the current step names
    no agency to sign for, or signing failed."""
    if action not in SIGNING_ACTIONS or not content:
        return None
    async with session.begin():
        case = await session.scalar(select(Case).where(Case.id == case_id, case_scope(principal)))
        if case is None or case.version != expected_version or case.current_step_id is None:
            return None
        step = await session.get(Step, case.current_step_id)
        if step is None or not step.agency_code:
            return None
        try:
            # Only so a refused action costs no signature; the locked transaction decides.
            # Allowed means: at the route's deciding step, by an approver of its agency, so
            # the key used (and, in development, minted) is that of the deciding agency, an
            # agency the route or intake's catalogue vouched for when the step reached it.
            authority.authorise(
                rules.CaseStatus(case.status),
                rules.StepStatus(step.status),
                action,
                officer,
                await progress.step_view(session, case, step),
            )
        except rules.ActionRefused:
            return None
        issuer = issuer_of(step.agency_code)
        document = ResultDocument(
            issuer=issuer.header,
            dossier_code=case.dossier_code,
            procedure_code=case.procedure_code,
            # Cases opened before names were copied from the dossier fall back to codes.
            procedure_name=case.procedure_name or case.procedure_key or case.procedure_code,
            applicant_name=case.applicant_name or f"Theo hồ sơ {case.dossier_code}",
            approved=action is rules.CaseAction.resolve,
            content=content,
            issued_at=now,
            signer_title=issuer.name.upper(),
            place=issuer.place,
        )
        version = case.version
    try:
        signed = await asyncio.to_thread(_render_and_sign, keys, issuer, document)
    except Exception:
        # Whatever breaks in drawing or signing (bad key files, a font without a glyph), the
        # decision still stands and is recorded; the result is then issued on paper only.
        log.exception("result_not_signed", case_id=str(case_id), agency_code=issuer.agency_code)
        return None
    if signed is None:
        log.warning("no_signing_key", case_id=str(case_id), agency_code=issuer.agency_code)
        return None
    pdf, signer_name = signed
    return PreparedResult(
        case_id=case_id,
        case_version=version,
        agency_code=issuer.agency_code,
        signer_name=signer_name,
        signed_by=principal.sub,
        signed_at=now,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
    )


def _render_and_sign(
    keys: SigningKeys, issuer: Issuer, document: ResultDocument
) -> tuple[bytes, str] | None:
    # One worker thread does it all with the synchronous signer: drawing is the larger part of
    # the work, and neither it nor pyhanko's signing yields while computing, so in the event
    # loop either would hold up every other request of this process.
    signer = keys.signer(issuer)
    if signer is None:
        return None
    unsigned = render_result_pdf(document)
    signed = sign_pdf(
        unsigned,
        signer,
        reason=(
            "Phê duyệt kết quả giải quyết hồ sơ"
            if document.approved
            else "Thông báo không chấp thuận hồ sơ"
        ),
        location=issuer.place or issuer.name,
        signed_at=document.issued_at,
    )
    return signed, signer.name


def keep(session: AsyncSession, case: Case, prepared: PreparedResult) -> None:
    """Store the prepared document in the caller's transaction, which has locked ``case`` at
    the version the document was prepared from and resolved it."""
    if prepared.case_id != case.id:
        raise ValueError("the prepared result belongs to another case")
    session.add(
        SignedResult(
            case_id=case.id,
            sha256=prepared.sha256,
            pdf=prepared.pdf,
            agency_code=prepared.agency_code,
            signer_name=prepared.signer_name,
            signed_by=prepared.signed_by,
            signed_at=prepared.signed_at,
        )
    )


# ----- finding --------------------------------------------------------------------------------


async def visible_result(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal
) -> tuple[SignedResult, str] | None:
    """The signed result of a case the principal may see, with the case's dossier code."""
    row = (
        await session.execute(
            select(SignedResult, Case.dossier_code)
            .join(Case, Case.id == SignedResult.case_id)
            .where(SignedResult.case_id == case_id, case_scope(principal))
        )
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class KnownResult:
    case_id: uuid.UUID
    dossier_code: str
    signed_at: dt.datetime


async def known_result(session: AsyncSession, sha256: str) -> KnownResult | None:
    """The case whose stored result has exactly this hash."""
    row = (
        await session.execute(
            select(SignedResult.case_id, Case.dossier_code, SignedResult.signed_at)
            .join(Case, Case.id == SignedResult.case_id)
            .where(SignedResult.sha256 == sha256)
            .limit(1)
        )
    ).first()
    return KnownResult(row[0], row[1], row[2]) if row else None
