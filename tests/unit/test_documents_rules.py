"""Rules of dossier components and documents, and the blob store on a real directory."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intake_service.db.blob_store import BlobStore, BlobTooLarge
from intake_service.domain.documents import (
    ContentRefusal,
    DocumentFacts,
    DocumentSource,
    ReuseAccessRefusal,
    ReuseRefusal,
    became_input_digitised,
    checked_content_type,
    digitised_on_arrival,
    is_input_digitised,
    kind_slug,
    match_component,
    may_attach,
    missing_components,
    reference_refusal,
    required_components,
    reuse_access_refusal,
    reuse_refusal,
    sniff_content_type,
)
from intake_service.domain.procedure_rules import ProcedureRules
from shared.auth import Principal

RESIDENCE = ProcedureRules.of(
    {"components": ["Tờ khai thay đổi thông tin cư trú", "Giấy tờ chứng minh chỗ ở hợp pháp"]}
)
CITIZEN = "001090012345"
TODAY = dt.date(2026, 11, 22)


def doc(component: str, digitised: bool = True, **kw: object) -> DocumentFacts:
    values: dict = {
        "component": component,
        "kind": kind_slug(component),
        "applicant_id_number": CITIZEN,
        "digitised": digitised,
        "valid_until": None,
    }
    values.update(kw)
    return DocumentFacts(**values)


def test_kind_is_an_ascii_slug_of_the_vietnamese_name() -> None:
    assert kind_slug("Giấy tờ tùy thân của người đi đăng ký") == (
        "giay-to-tuy-than-cua-nguoi-di-dang-ky"
    )
    assert kind_slug("Đơn xin nhận con nuôi") == "don-xin-nhan-con-nuoi"


def test_components_come_in_catalogue_order_numbered_from_one() -> None:
    components = required_components(RESIDENCE)
    assert [(c.index, c.name) for c in components] == [
        (1, "Tờ khai thay đổi thông tin cư trú"),
        (2, "Giấy tờ chứng minh chỗ ở hợp pháp"),
    ]


def test_a_component_object_may_declare_its_kind() -> None:
    [component] = required_components(
        ProcedureRules.of({"components": [{"name": "CCCD", "kind": "cccd"}]})
    )
    assert component.kind == "cccd"


def test_component_matches_by_name_ignoring_case_spacing_and_unicode_form() -> None:
    components = required_components(RESIDENCE)
    decomposed = "giấy tờ  chứng minh chỗ ở HỢP PHÁP".replace("ấ", "a\u0302\u0301")
    assert match_component(components, decomposed) == components[1]
    assert match_component(components, "2") == components[1]
    assert match_component(components, "3") is None
    assert match_component(components, "Sổ hộ khẩu") is None


def test_missing_components_are_those_without_any_document() -> None:
    components = required_components(RESIDENCE)
    missing = missing_components(components, [doc("Tờ khai thay đổi thông tin cư trú", False)])
    assert [c.index for c in missing] == [2]


def test_input_digitised_needs_a_digitised_document_for_every_component() -> None:
    components = required_components(RESIDENCE)
    first, second = (c.name for c in components)
    assert not is_input_digitised(components, [doc(first)])
    assert not is_input_digitised(components, [doc(first), doc(second, digitised=False)])
    assert is_input_digitised(components, [doc(first), doc(second, False), doc(second)])


def test_only_the_completing_change_counts_as_becoming_digitised() -> None:
    components = required_components(RESIDENCE)
    first, second = (c.name for c in components)
    assert became_input_digitised(components, [doc(first)], [doc(first), doc(second)])
    done = [doc(first), doc(second)]
    assert not became_input_digitised(components, done, [*done, doc(second)])
    assert not became_input_digitised([], [], [doc(first)])


@pytest.mark.parametrize(
    ("source", "by_officer", "digitised"),
    [
        (DocumentSource.upload, True, True),
        (DocumentSource.upload, False, False),
        (DocumentSource.reference, True, True),
        (DocumentSource.paper, True, False),
        (DocumentSource.reuse, False, True),
    ],
)
def test_what_counts_as_digitised_on_arrival(
    source: DocumentSource, by_officer: bool, digitised: bool
) -> None:
    assert digitised_on_arrival(source, by_officer) is digitised


def test_reuse_of_own_digitised_valid_document_of_the_same_kind_is_allowed() -> None:
    earlier = doc("Giấy tờ tùy thân", valid_until=TODAY)
    assert reuse_refusal(earlier, CITIZEN, "giay-to-tuy-than", TODAY) is None


@pytest.mark.parametrize(
    ("changes", "applicant", "kind", "refusal"),
    [
        ({}, "001090099999", "giay-to-tuy-than", ReuseRefusal.other_applicant),
        ({}, CITIZEN, "giay-khai-sinh", ReuseRefusal.different_kind),
        ({"digitised": False}, CITIZEN, "giay-to-tuy-than", ReuseRefusal.not_digitised),
        (
            {"valid_until": TODAY - dt.timedelta(days=1)},
            CITIZEN,
            "giay-to-tuy-than",
            ReuseRefusal.expired,
        ),
    ],
)
def test_reuse_is_refused_with_its_reason(
    changes: dict, applicant: str, kind: str, refusal: ReuseRefusal
) -> None:
    earlier = doc("Giấy tờ tùy thân", **changes)
    assert reuse_refusal(earlier, applicant, kind, TODAY) == refusal


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", None),
        (b"PK\x03\x04", None),
        (b" %PDF-1.7", None),
        (b"", None),
    ],
)
def test_content_is_known_by_its_first_bytes(head: bytes, content_type: str | None) -> None:
    assert sniff_content_type(head) == content_type


@pytest.mark.parametrize(
    ("declared", "head", "outcome"),
    [
        ("application/pdf", b"%PDF-1.4", "application/pdf"),
        ("Application/PDF; name=a.pdf", b"%PDF-1.4", "application/pdf"),
        ("image/jpg", b"\xff\xd8\xff\xdb", "image/jpeg"),
        ("application/octet-stream", b"\x89PNG\r\n\x1a\n", "image/png"),
        (None, b"%PDF-2.0", "application/pdf"),
        ("application/pdf", b"MZ\x90\x00" + bytes(10), ContentRefusal.mismatch),
        ("image/png", b"%PDF-1.4", ContentRefusal.mismatch),
        ("application/octet-stream", b"MZ\x90\x00", ContentRefusal.unsupported),
        ("text/html", b"<html>", ContentRefusal.unsupported),
        ("application/zip", b"PK\x03\x04", ContentRefusal.unsupported),
        ("image/svg+xml", b"<svg onload=", ContentRefusal.unsupported),
    ],
)
def test_declared_type_must_be_accepted_and_borne_out_by_the_content(
    declared: str | None, head: bytes, outcome: str
) -> None:
    assert checked_content_type(declared, head) == outcome


HOSTS = ["dichvucong.gov.vn", "csdl.gov.vn"]


@pytest.mark.parametrize(
    "reference",
    [
        "https://dichvucong.gov.vn/kho-du-lieu/001090012345/hd",
        "https://DichVuCong.gov.vn/x?y=1#z",
        "https://kho.dichvucong.gov.vn/x",
        "https://dichvucong.gov.vn:443/x",
        "https://csdl.gov.vn",
    ],
)
def test_https_references_to_allowed_hosts_are_accepted(reference: str) -> None:
    assert reference_refusal(reference, HOSTS) is None


@pytest.mark.parametrize(
    "reference",
    [
        "javascript:alert(1)",
        " javascript:alert(1)",
        "data:application/pdf;base64,JVBERi0=",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "ftp://dichvucong.gov.vn/x",
        "http://dichvucong.gov.vn/x",
        "https://evil.example/x",
        "https://dichvucong.gov.vn.evil.example/x",
        "https://evildichvucong.gov.vn/x",
        "https://user:pw@dichvucong.gov.vn/x",
        "https://dichvucong.gov.vn@evil.example/x",
        "https://evil.example\\@dichvucong.gov.vn/x",
        "https://dichvucong.gov.vn:8443/x",
        "https://dichvucong.gov.vn:99999/x",
        "https://[::1]/x",
        "https://127.0.0.1/x",
        "https://dichvucong.gov.vn/x\ny",
        "https:///x",
        "//dichvucong.gov.vn/x",
        "so-giay-to-123",
    ],
)
def test_other_references_are_refused_with_a_reason_in_both_languages(reference: str) -> None:
    refusal = reference_refusal(reference, HOSTS)
    assert refusal is not None
    english, vietnamese = refusal
    assert english and vietnamese


def test_no_allowed_host_refuses_every_reference() -> None:
    assert reference_refusal("https://dichvucong.gov.vn/x", []) is not None


@pytest.mark.parametrize(
    ("own", "roles", "consent", "refusal"),
    [
        (True, {"applicant"}, False, None),
        (False, {"receptionist"}, True, None),
        (False, {"specialist"}, True, None),
        (False, {"approver"}, True, None),
        (False, {"receptionist"}, False, ReuseAccessRefusal.consent),
        (False, {"supervisor"}, True, ReuseAccessRefusal.role),
        (False, {"ops"}, True, ReuseAccessRefusal.role),
        (False, {"integration"}, True, ReuseAccessRefusal.role),
        (False, {"applicant"}, True, ReuseAccessRefusal.role),
    ],
)
def test_earlier_documents_are_for_their_applicant_or_a_consented_handling_officer(
    own: bool, roles: set[str], consent: bool, refusal: ReuseAccessRefusal | None
) -> None:
    assert reuse_access_refusal(own=own, roles=roles, consent=consent) == refusal


def _who(sub: str, *roles: str, unit_path: str | None = "01.00070") -> Principal:
    return Principal(sub, frozenset(roles), unit_path=unit_path)


REPRESENTATIVE = "001090011111"


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (_who("cb.tiepnhan.00070", "receptionist"), True),
        (_who("cb.tinh.01", "receptionist", unit_path="01"), True),
        (_who("cb.tiepnhan.00004", "receptionist", unit_path="01.00004"), False),
        (_who("cv.xuly", "specialist"), False),
        (_who(CITIZEN, "applicant", unit_path=None), True),
        (_who("001090099999", "applicant", unit_path=None), False),
        (_who(REPRESENTATIVE, "applicant", unit_path=None), True),
        (_who("lgsp-hanoi", "integration"), True),
        (_who("post-office", "integration"), False),
        # The submitter's name without the integration role is nobody's account.
        (_who("lgsp-hanoi", "supervisor"), False),
    ],
)
def test_documents_are_added_by_the_desk_the_applicant_or_the_submitting_system(
    principal: Principal, allowed: bool
) -> None:
    facts = {
        "unit_path": "01.00070",
        "applicant_id_number": CITIZEN,
        "representative_id_number": REPRESENTATIVE,
        "submitted_by": "lgsp-hanoi",
    }
    assert may_attach(principal, **facts) is allowed


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_blob_store_keeps_content_once_under_its_sha256(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=1000)
    first = await store.put(_chunks(b"Giay khai sinh ", b"ban sao"))
    again = await store.put(_chunks(b"Giay khai sinh ban sao"))
    sha = hashlib.sha256(b"Giay khai sinh ban sao").hexdigest()
    assert (first.sha256, first.created) == (sha, True)
    assert (again.sha256, again.created) == (sha, False)
    assert store.path_of(sha) == tmp_path / sha[:2] / sha
    assert [p.name for p in stored_files(tmp_path)] == [sha]
    assert b"".join([c async for c in await store.read(sha, chunk_bytes=4)]) == (
        b"Giay khai sinh ban sao"
    )


async def test_blob_over_the_limit_leaves_nothing_behind(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=10)
    with pytest.raises(BlobTooLarge):
        await store.put(_chunks(b"123456", b"789012"))
    assert stored_files(tmp_path) == []


async def test_an_interrupted_upload_never_appears_under_a_final_name(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=1000)

    async def broken() -> AsyncIterator[bytes]:
        yield b"first half of a scan"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put(broken())
    # Neither the final name nor the temporary one is left.
    assert stored_files(tmp_path) == []


def test_blob_paths_accept_only_sha256_digests(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path, 10).path_of("../../etc/passwd")
