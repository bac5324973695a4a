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
from typing import Any


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


def required_components(procedure_data: dict[str, Any]) -> list[Component]:
    """The components a procedure requires. Entries are names, or objects with ``name`` and an
    optional ``kind`` when the catalogue states which kind of paper fits the component."""
    components: list[Component] = []
    for position, entry in enumerate(procedure_data.get("components") or [], start=1):
        if isinstance(entry, dict):
            name = str(entry.get("name", "")).strip()
            kind = str(entry.get("kind") or "") or kind_slug(name)
        else:
            name = str(entry).strip()
            kind = kind_slug(name)
        if name:
            components.append(Component(position, name, kind))
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
