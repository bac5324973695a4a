"""Rules about a dossier's components (thành phần hồ sơ) and their documents, free of storage.

A procedure lists the components a dossier must carry. Each arrives as a document: an uploaded
file, a reference to a copy held elsewhere, a paper original kept at the desk, or an earlier
digitised copy of the same applicant reused. A dossier is *input-digitised* (số hóa hồ sơ đầu vào)
when every required component has a digitised document; that is what the input digitisation
rate counts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from intake_service.domain.applicant import is_own_dossier
from intake_service.domain.procedure_rules import ProcedureRules
from shared.auth import Principal


class DocumentSource(StrEnum):
    upload = "upload"
    reference = "reference"
    paper = "paper"
    reuse = "reuse"


SOURCE_LABELS_VI = {
    DocumentSource.upload: "tệp tải lên",
    DocumentSource.reference: "tham chiếu kho dữ liệu",
    DocumentSource.paper: "bản giấy tại Bộ phận Một cửa",
    DocumentSource.reuse: "tái sử dụng bản đã số hóa",
}

# Who confirms that a component was digitised: the one-stop desk's officers. An applicant's own
# upload is a file, not yet a checked digitised copy.
DIGITISING_ROLES = frozenset({"receptionist"})

# A dossier in one of these statuses is closed: nothing more may be attached to it.
CLOSED_STATUSES = frozenset({"refused", "withdrawn", "returned"})


@dataclass(frozen=True)
class Component:
    """One required component of a procedure, in the catalogue's order (numbered from 1)."""

    index: int
    name: str
    kind: str


@dataclass(frozen=True)
class DocumentFacts:
    """What the rules need to know about a document, whatever stores it."""

    component: str
    kind: str | None
    applicant_id_number: str
    digitised: bool
    valid_until: dt.date | None


def kind_slug(name: str) -> str:
    """A stable ASCII kind for a component name: ``Giấy tờ tùy thân`` → ``giay-to-tuy-than``.

    Vietnamese đ does not decompose under NFKD, so it is mapped by hand before accents are
    stripped."""
    text = name.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:128]


def _comparable(name: str) -> str:
    # Names typed at a desk differ from the catalogue in case, spacing and Unicode form.
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def required_components(rules: ProcedureRules) -> list[Component]:
    """The components a procedure requires, in the catalogue's order. A component names the
    kind of paper that fits it when the catalogue says so, else its kind is its name's slug."""
    components: list[Component] = []
    for position, entry in enumerate(rules.components, start=1):
        name = entry.name.strip()
        if name:
            components.append(Component(position, name, entry.kind or kind_slug(name)))
    return components


def match_component(components: Sequence[Component], given: str) -> Component | None:
    """The component named by ``given``: its name (ignoring case, spacing and Unicode form) or
    its number in the catalogue's list, counted from 1 as on the forms."""
    wanted = given.strip()
    if wanted.isdigit():
        number = int(wanted)
        return next((c for c in components if c.index == number), None)
    key = _comparable(wanted)
    return next((c for c in components if _comparable(c.name) == key), None)


def provided_components(
    components: Sequence[Component], documents: Iterable[DocumentFacts]
) -> set[str]:
    names = {c.name for c in components}
    return {d.component for d in documents if d.component in names}


def missing_components(
    components: Sequence[Component], documents: Iterable[DocumentFacts]
) -> list[Component]:
    provided = provided_components(components, documents)
    return [c for c in components if c.name not in provided]


def undigitised_components(
    components: Sequence[Component], documents: Iterable[DocumentFacts]
) -> list[Component]:
    digitised = {d.component for d in documents if d.digitised}
    return [c for c in components if c.name not in digitised]


def is_input_digitised(components: Sequence[Component], documents: Iterable[DocumentFacts]) -> bool:
    """Every required component has at least one digitised document. A procedure that requires
    nothing has nothing left to digitise."""
    return not undigitised_components(components, documents)


def became_input_digitised(
    components: Sequence[Component],
    before: Sequence[DocumentFacts],
    after: Sequence[DocumentFacts],
) -> bool:
    """True only for the change that completes the dossier, so the event is published once."""
    return bool(components) and (
        not is_input_digitised(components, before) and is_input_digitised(components, after)
    )


def digitised_on_arrival(source: DocumentSource, by_officer: bool) -> bool:
    """An officer's scan at the desk, or a reference an officer attaches, is a digitised copy; a
    reused document was digitised before. What an applicant sends awaits an officer's check, and
    paper is digitised only when an officer says so."""
    if source == DocumentSource.reuse:
        return True
    if source == DocumentSource.paper:
        return False
    return by_officer


class ReuseRefusal(StrEnum):
    other_applicant = "other-applicant"
    different_kind = "different-kind"
    not_digitised = "not-digitised"
    expired = "expired"
    # A reference taken in before references were checked, to a link no longer accepted.
    unsafe_reference = "unsafe-reference"


REUSE_REFUSALS: dict[ReuseRefusal, tuple[str, str]] = {
    ReuseRefusal.other_applicant: (
        "The document belongs to another applicant",
        "Giấy tờ thuộc về người nộp khác",
    ),
    ReuseRefusal.different_kind: (
        "The document is of another kind than the component needs",
        "Giấy tờ không đúng loại của thành phần hồ sơ",
    ),
    ReuseRefusal.not_digitised: (
        "Only a digitised document can be reused",
        "Chỉ tái sử dụng được giấy tờ đã số hóa",
    ),
    ReuseRefusal.expired: (
        "The document is no longer valid",
        "Giấy tờ đã hết hiệu lực",
    ),
    ReuseRefusal.unsafe_reference: (
        "The document refers to a link that is no longer accepted",
        "Giấy tờ tham chiếu tới địa chỉ không còn được chấp nhận",
    ),
}


def reuse_refusal(
    document: DocumentFacts, applicant_id_number: str, kind: str, today: dt.date
) -> ReuseRefusal | None:
    """Why ``document`` may not stand for a component of ``kind`` in a dossier of
    ``applicant_id_number`` today, or None when it may (Decree 45/2020: data already held is
    not asked for again)."""
    if document.applicant_id_number != applicant_id_number:
        return ReuseRefusal.other_applicant
    if (document.kind or kind_slug(document.component)) != kind:
        return ReuseRefusal.different_kind
    if not document.digitised:
        return ReuseRefusal.not_digitised
    if is_expired(document.valid_until, today):
        return ReuseRefusal.expired
    return None


def is_expired(valid_until: dt.date | None, today: dt.date) -> bool:
    """Valid through ``valid_until`` itself; no date means no expiry."""
    return valid_until is not None and valid_until < today


# ----- content of uploads ---------------------------------------------------------------------

# The file types a component may be sent as, each with the leading bytes every such file starts
# with. Scans arrive as PDF or images; anything else (executables, archives, office files with
# macros) has no place in a dossier, and a declared type is only a claim of the sender.
ACCEPTED_CONTENT_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/webp": (),  # RIFF container, checked apart: the marker is at offset 8
}
# Names some senders use for the same types.
_CONTENT_TYPE_ALIASES = {
    "application/x-pdf": "application/pdf",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
}
# Types that say nothing about the content: the sniffed type stands instead.
_UNDECLARED = frozenset({"", "application/octet-stream"})
# Enough leading bytes for every signature above.
SNIFF_BYTES = 16


def sniff_content_type(head: bytes) -> str | None:
    """The accepted type ``head`` (the first bytes of a file) belongs to, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for content_type, signatures in ACCEPTED_CONTENT_TYPES.items():
        if any(head.startswith(s) for s in signatures):
            return content_type
    return None


class ContentRefusal(StrEnum):
    unsupported = "unsupported-media-type"
    mismatch = "content-type-mismatch"


def checked_content_type(declared: str | None, head: bytes) -> str | ContentRefusal:
    """The type to store a file under, from what the sender declared and what its first bytes
    are; or why it is refused. A declared type outside the accepted ones is unsupported; an
    accepted one the bytes do not bear out is a mismatch (a program named ``scan.pdf``)."""
    media = (declared or "").split(";", 1)[0].strip().lower()
    media = _CONTENT_TYPE_ALIASES.get(media, media)
    sniffed = sniff_content_type(head)
    if media in _UNDECLARED:
        return sniffed if sniffed is not None else ContentRefusal.unsupported
    if media not in ACCEPTED_CONTENT_TYPES:
        return ContentRefusal.unsupported
    return media if sniffed == media else ContentRefusal.mismatch


# ----- references -----------------------------------------------------------------------------

# Hosts whose documents may be referenced instead of uploaded, unless configured otherwise: the
# National Public Service Portal, where a citizen's digitised papers (kho dữ liệu) are kept.
DEFAULT_REFERENCE_HOSTS = ("dichvucong.gov.vn",)
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def reference_refusal(reference: str, allowed_hosts: Iterable[str]) -> tuple[str, str] | None:
    """Why ``reference`` may not stand for a document (English, Vietnamese), or None when it is
    an https URL on one of ``allowed_hosts`` (or a subdomain of one).

    Stricter than URL parsing alone: a backslash, whitespace or control character, or a user
    name is refused outright, because browsers and parsers disagree about where such a URL
    leads (``https://evil.example\\@dichvucong.gov.vn`` opens evil.example in a browser)."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in reference):
        return (
            "the reference contains characters a URL may not",
            "địa chỉ chứa ký tự không hợp lệ",
        )
    try:
        parts = urlsplit(reference)
        port = parts.port
    except ValueError:
        return ("the reference is not a valid URL", "địa chỉ không hợp lệ")
    if parts.scheme.lower() != "https":
        return ("the reference must be an https URL", "địa chỉ phải bắt đầu bằng https://")
    host = (parts.hostname or "").rstrip(".")
    if "@" in parts.netloc or not _HOST.match(host) or port not in (None, 443):
        return ("the reference must name a host and nothing else", "địa chỉ máy chủ không hợp lệ")
    allowed = {h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()}
    if not any(host == h or host.endswith("." + h) for h in allowed):
        return (
            f"references are accepted only to {', '.join(sorted(allowed)) or 'no host'}",
            f"chỉ chấp nhận địa chỉ thuộc {', '.join(sorted(allowed)) or '(không có)'}",
        )
    return None


# ----- who may add documents -------------------------------------------------------------------


def is_applicant_of(principal: Principal, applicant_id_number: str) -> bool:
    """The caller is the applicant themself, signed in under their own personal ID."""
    return principal.has_role("applicant") and principal.sub == applicant_id_number


def may_give_consent(principal: Principal, applicant_id_number: str) -> bool:
    """Consent to the reuse of a citizen's earlier documents is theirs alone to give: an officer
    ticking it at the desk, or a client relaying it, would be consent nobody can check, and it
    is what would open a citizen's papers to any desk that files a dossier under their ID."""
    return is_applicant_of(principal, applicant_id_number)


def may_consent_by_lookup(*, applicant_id_number: str, submitted_by: str) -> bool:
    """The lookup's verifier is the last digits of the applicant's ID or phone, which whoever
    filed the dossier typed in: it proves the applicant only when the applicant filed it."""
    return submitted_by == applicant_id_number


def acts_as_desk(principal: Principal, unit_path: str) -> bool:
    """The one-stop desk of the dossier's unit (or a unit above it)."""
    return principal.has_role("receptionist") and principal.covers(unit_path)


def may_attach(
    principal: Principal,
    *,
    unit_path: str,
    applicant_id_number: str,
    representative_id_number: str | None,
    submitted_by: str,
) -> bool:
    """The desk of the dossier's unit, the applicant whose dossier it is (or their authorised
    representative who filed it), or the integration client (LGSP/NGSP, post office) that
    submitted it, and no other client."""
    submitter = principal.has_role("integration") and principal.sub == submitted_by
    return (
        acts_as_desk(principal, unit_path)
        or is_own_dossier(principal, applicant_id_number, representative_id_number)
        or submitter
    )


# ----- reuse: who may see an applicant's earlier documents -------------------------------------

# Officers who handle a dossier and so may, with the applicant's consent, see the documents the
# applicant has had digitised before. Supervisors and ops oversee the system, not a dossier.
REUSE_READING_ROLES = frozenset({"receptionist", "specialist", "approver"})


class ReuseAccessRefusal(StrEnum):
    role = "role"
    consent = "consent"


def reuse_access_refusal(
    *, own: bool, roles: Iterable[str], consent: bool
) -> ReuseAccessRefusal | None:
    """Why the caller may not see or reuse the earlier documents of a dossier's applicant, or
    None when they may. ``own``: the caller is that applicant, who needs nobody's consent.
    Anyone else must hold a handling role (the dossier being in their unit is checked by
    finding it at all) and have the applicant's consent (Decree 13/2023 on personal data)."""
    if own:
        return None
    if REUSE_READING_ROLES.isdisjoint(roles):
        return ReuseAccessRefusal.role
    if not consent:
        return ReuseAccessRefusal.consent
    return None


class DocumentAudit(StrEnum):
    """Entries of a dossier's history that record who saw or took documents, and consent.
    They change no status (``from_status`` = ``to_status``) and carry no personal data."""

    consent_given = "reuse_consent_given"
    consent_withdrawn = "reuse_consent_withdrawn"
    listed = "reusable_documents_viewed"
    reused = "document_reused"


AUDIT_LABELS_VI = {
    DocumentAudit.consent_given: "Đồng ý cho tái sử dụng giấy tờ đã số hóa",
    DocumentAudit.consent_withdrawn: "Rút lại đồng ý tái sử dụng giấy tờ",
    DocumentAudit.listed: "Cán bộ xem giấy tờ đã số hóa của người nộp",
    DocumentAudit.reused: "Tái sử dụng giấy tờ đã số hóa",
}
