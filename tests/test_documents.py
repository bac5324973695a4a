"""Dossier documents over HTTP: upload, dedup, download, reuse, digitisation and its event."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from intake_service.settings import IntakeSettings
from services.stack import Infrastructure, Stack
from shared.db.engine import asyncpg_dsn
from shared.events import DossierDigitised, topics
from tests.support import BA_DINH, HANOI, Tokens, dossier_body, eventually, personal_id

PROBLEM = "application/problem+json"
DECLARATION = "Tờ khai thay đổi thông tin cư trú"
RESIDENCE_PROOF = "Giấy tờ chứng minh chỗ ở hợp pháp"
PDF = "application/pdf"


def scan(label: str = "") -> bytes:
    """A small PDF-looking file, different on every call so tests own their blobs."""
    return b"%PDF-1.7\n% " + label.encode() + os.urandom(64) + b"\n%%EOF\n"


class Desk:
    """The Hoàn Kiếm one-stop desk, a citizen, and the documents API between them."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = f"{stack.url('intake')}/v1"
        self.tokens = tokens
        self.officer = tokens.receptionist()

    def citizen(self, id_number: str) -> dict[str, str]:
        return self.tokens.bearer(id_number, ["applicant"])

    async def dossier(self, applicant: str | None = None, online: bool = False) -> dict:
        body = dossier_body(channel="online" if online else "direct")
        if applicant:
            body["applicant"]["id_number"] = applicant
        headers = self.citizen(body["applicant"]["id_number"]) if online else self.officer
        r = await self.http.post(f"{self.base}/dossiers", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json() | {
            "applicant_id": body["applicant"]["id_number"],
            "etag": r.headers["ETag"],
        }

    async def upload(
        self,
        code: str,
        component: str,
        content: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = PDF,
        **fields: str,
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/dossiers/{code}/documents",
            files={"file": ("hop-dong-thue-nha.pdf", content, content_type)},
            data={"component": component, **fields},
            headers=headers or self.officer,
        )

    async def documents(self, code: str, headers: dict[str, str] | None = None) -> dict:
        r = await self.http.get(
            f"{self.base}/dossiers/{code}/documents", headers=headers or self.officer
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def reuse(
        self, code: str, component: str, document_id: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/dossiers/{code}/documents/reuse",
            json={"component": component, "document_id": document_id},
            headers=headers or self.officer,
        )


@pytest.fixture
def desk(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Desk:
    return Desk(http, stack, tokens)


async def outbox_types(database_url: str, dossier_id: str) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_type FROM intake.outbox WHERE key = $1 ORDER BY id", dossier_id
        )
        return [r["event_type"] for r in rows]
    finally:
        await conn.close()


async def blob_rows(database_url: str, sha256: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM intake.blobs WHERE sha256 = $1", sha256)
        )
    finally:
        await conn.close()


async def broker_event_types(bootstrap: str, topic: str, key: str) -> list[str]:
    """ce_type of every message keyed ``key`` on ``topic``, read from the start without a group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        while not partitions:
            await consumer.client.force_metadata_update()  # type: ignore[attr-defined]
            partitions = consumer.partitions_for_topic(topic)
            await asyncio.sleep(0.1)
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        types: list[str] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for m in records:
                    if m.key == key.encode():
                        types.extend(v.decode() for k, v in m.headers if k == "ce_type")
        return types
    finally:
        await consumer.stop()


# ----- upload, dedup, download -------------------------------------------------------------------


async def test_officer_upload_is_digitised_and_downloads_byte_for_byte(desk: Desk) -> None:
    dossier = await desk.dossier()
    content = scan("to khai")
    r = await desk.upload(dossier["code"], DECLARATION, content)
    assert r.status_code == 201, r.text
    document = r.json()
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["size"] == len(content) and document["content_type"] == PDF
    assert document["digitised"] is True and document["digitised_by"] == "cb.tiepnhan.00070"
    assert document["source"] == "upload" and document["component"] == DECLARATION
    assert r.headers["Location"] == f"/v1/documents/{document['id']}"

    got = await desk.http.get(
        f"{desk.base}/documents/{document['id']}/content", headers=desk.officer
    )
    assert got.status_code == 200
    assert got.content == content
    assert hashlib.sha256(got.content).hexdigest() == document["sha256"]
    assert got.headers["content-type"] == PDF
    assert got.headers["etag"] == f'"{document["sha256"]}"'
    assert "hop-dong-thue-nha.pdf" in got.headers["content-disposition"]

    unchanged = await desk.http.get(
        f"{desk.base}/documents/{document['id']}/content",
        headers={**desk.officer, "If-None-Match": got.headers["etag"]},
    )
    assert unchanged.status_code == 304 and unchanged.content == b""


async def test_same_bytes_twice_are_stored_once(desk: Desk, database_url: str) -> None:
    content = scan("trung lap")
    first, second = await desk.dossier(), await desk.dossier()
    a = await desk.upload(first["code"], DECLARATION, content)
    b = await desk.upload(second["code"], "2", content)
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    sha = hashlib.sha256(content).hexdigest()
    assert a.json()["sha256"] == b.json()["sha256"] == sha
    assert a.json()["id"] != b.json()["id"]
    assert b.json()["component"] == RESIDENCE_PROOF  # matched by its number
    assert await blob_rows(database_url, sha) == 1
    stored = IntakeSettings().blob_dir / sha[:2] / sha
    assert stored.read_bytes() == content


async def test_file_over_the_limit_gets_413_and_nothing_is_attached(
    desk: Desk, database_url: str
) -> None:
    limit = IntakeSettings().blob_max_bytes
    dossier = await desk.dossier()
    just_over = b"\0" * (limit + 1)
    r = await desk.upload(dossier["code"], DECLARATION, just_over)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith(PROBLEM) and r.json()["title_vi"]
    # Far over: refused from the declared length, before the body is read.
    far_over = await desk.upload(dossier["code"], DECLARATION, b"\0" * (limit + 512 * 1024))
    assert far_over.status_code == 413
    assert (await desk.documents(dossier["code"]))["documents"] == []
    assert await blob_rows(database_url, hashlib.sha256(just_over).hexdigest()) == 0


# ----- input digitisation ------------------------------------------------------------------------


async def test_input_digitised_flips_with_the_last_component_and_is_published_once(
    desk: Desk, database_url: str, infra: Infrastructure, namespace: str
) -> None:
    dossier = await desk.dossier()
    listed = await desk.documents(dossier["code"])
    assert [c["name"] for c in listed["components"]] == [DECLARATION, RESIDENCE_PROOF]
    assert listed["missing"] == [DECLARATION, RESIDENCE_PROOF] and not listed["input_digitised"]

    first = await desk.upload(dossier["code"], DECLARATION, scan())
    assert first.json()["dossier_input_digitised"] is False
    assert (await desk.documents(dossier["code"]))["missing"] == [RESIDENCE_PROOF]

    last = await desk.upload(dossier["code"], RESIDENCE_PROOF.upper(), scan())
    assert last.status_code == 201, last.text
    assert last.json()["dossier_input_digitised"] is True
    listed = await desk.documents(dossier["code"])
    assert listed["missing"] == [] and listed["input_digitised"] is True
    assert all(c["digitised"] for c in listed["components"])

    # Another copy of a component changes nothing: the dossier was already counted.
    assert (await desk.upload(dossier["code"], DECLARATION, scan())).status_code == 201
    digitised = DossierDigitised.event_type
    assert (await outbox_types(database_url, dossier["id"])).count(digitised) == 1

    topic = namespace + topics.DOSSIERS

    async def on_the_broker() -> list[str]:
        types = await broker_event_types(infra.bootstrap_servers, topic, dossier["id"])
        return types if digitised in types else []

    types = await eventually(on_the_broker, timeout=10)
    assert types.count(digitised) == 1


async def test_applicant_upload_waits_for_an_officer_to_digitise_it(
    desk: Desk, database_url: str
) -> None:
    dossier = await desk.dossier(online=True)
    citizen = desk.citizen(dossier["applicant_id"])
    officer_doc = await desk.upload(dossier["code"], DECLARATION, scan())
    own = await desk.upload(dossier["code"], RESIDENCE_PROOF, scan(), headers=citizen)
    assert own.status_code == 201, own.text
    assert own.json()["digitised"] is False and own.json()["dossier_input_digitised"] is False
    assert officer_doc.json()["digitised"] is True

    url = f"{desk.base}/documents/{own.json()['id']}/digitise"
    assert (await desk.http.post(url, headers=citizen)).status_code == 403
    neighbour = desk.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (await desk.http.post(url, headers=neighbour)).status_code == 404
    assert DossierDigitised.event_type not in await outbox_types(database_url, dossier["id"])

    marked = await desk.http.post(url, headers=desk.officer)
    assert marked.status_code == 200, marked.text
    body = marked.json()
    assert body["digitised"] is True and body["digitised_by"] == "cb.tiepnhan.00070"
    assert body["digitised_at"] and body["dossier_input_digitised"] is True
    again = await desk.http.post(url, headers=desk.officer)
    assert again.status_code == 200 and again.json()["digitised_at"] == body["digitised_at"]
    types = await outbox_types(database_url, dossier["id"])
    assert types.count(DossierDigitised.event_type) == 1


async def test_paper_and_referenced_components_are_recorded_without_bytes(desk: Desk) -> None:
    dossier = await desk.dossier()
    paper = await desk.http.post(
        f"{desk.base}/dossiers/{dossier['code']}/documents",
        json={"component": "1", "source": "paper"},
        headers=desk.officer,
    )
    assert paper.status_code == 201, paper.text
    assert paper.json()["source"] == "paper" and paper.json()["digitised"] is False
    reference = await desk.http.post(
        f"{desk.base}/dossiers/{dossier['code']}/documents",
        json={
            "component": RESIDENCE_PROOF,
            "reference": "https://dichvucong.gov.vn/kho-du-lieu/hd-thue-nha-2026",
        },
        headers=desk.officer,
    )
    assert reference.status_code == 201, reference.text
    assert reference.json()["digitised"] is True and reference.json()["content_url"] is None
    no_file = await desk.http.get(
        f"{desk.base}/documents/{reference.json()['id']}/content", headers=desk.officer
    )
    assert no_file.status_code == 404 and no_file.json()["type"].endswith("no-content")
    listed = await desk.documents(dossier["code"])
    assert listed["missing"] == [] and listed["input_digitised"] is False
    scanned = await desk.http.post(
        f"{desk.base}/documents/{paper.json()['id']}/digitise", headers=desk.officer
    )
    assert scanned.json()["dossier_input_digitised"] is True


# ----- reuse -------------------------------------------------------------------------------------


async def test_applicant_reuses_an_earlier_digitised_document(desk: Desk) -> None:
    citizen_id = personal_id()
    earlier = await desk.dossier(citizen_id)
    content = scan("so do")
    original = await desk.upload(earlier["code"], RESIDENCE_PROOF, content)
    later = await desk.dossier(citizen_id, online=True)
    citizen = desk.citizen(citizen_id)

    r = await desk.reuse(later["code"], RESIDENCE_PROOF, original.json()["id"], headers=citizen)
    assert r.status_code == 201, r.text
    reused = r.json()
    assert reused["source"] == "reuse" and reused["reused_from"] == original.json()["id"]
    assert reused["digitised"] is True and reused["sha256"] == original.json()["sha256"]
    got = await desk.http.get(f"{desk.base}/documents/{reused['id']}/content", headers=citizen)
    assert got.content == content

    mine = await desk.http.get(
        f"{desk.base}/applicants/documents",
        params={"kind": "giay-to-chung-minh-cho-o-hop-phap"},
        headers={**citizen, "X-Applicant-Id-Number": citizen_id},
    )
    assert mine.status_code == 200
    assert original.json()["id"] in {d["id"] for d in mine.json()["items"]}
    assert all(d["kind"] == "giay-to-chung-minh-cho-o-hop-phap" for d in mine.json()["items"])
    # The desk handling one of this citizen's dossiers sees the same reusable documents.
    seen_by_desk = await desk.http.get(
        f"{desk.base}/applicants/documents",
        headers={**desk.officer, "X-Applicant-Id-Number": citizen_id},
    )
    assert original.json()["id"] in {d["id"] for d in seen_by_desk.json()["items"]}


async def test_reuse_is_refused_for_another_applicant_kind_undigitised_or_expired(
    desk: Desk,
) -> None:
    citizen_id = personal_id()
    earlier = await desk.dossier(citizen_id, online=True)
    citizen = desk.citizen(citizen_id)
    declaration = await desk.upload(earlier["code"], DECLARATION, scan())
    undigitised = await desk.upload(earlier["code"], RESIDENCE_PROOF, scan(), headers=citizen)
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    expired = await desk.upload(earlier["code"], RESIDENCE_PROOF, scan(), valid_until=yesterday)
    stranger = await desk.dossier()
    strangers_doc = await desk.upload(stranger["code"], RESIDENCE_PROOF, scan())

    later = await desk.dossier(citizen_id)
    cases = {
        "reuse-other-applicant": (RESIDENCE_PROOF, strangers_doc),
        "reuse-different-kind": (RESIDENCE_PROOF, declaration),
        "reuse-not-digitised": (RESIDENCE_PROOF, undigitised),
        "reuse-expired": (RESIDENCE_PROOF, expired),
    }
    for code, (component, source) in cases.items():
        r = await desk.reuse(later["code"], component, source.json()["id"])
        assert r.status_code == 422, (code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["type"].endswith(code) and r.json()["title_vi"]
    assert (await desk.documents(later["code"]))["documents"] == []


# ----- who and when ------------------------------------------------------------------------------


async def test_wrong_role_other_unit_and_stranger_cannot_attach(desk: Desk) -> None:
    dossier = await desk.dossier()
    specialist = desk.tokens.bearer("cv.xuly", ["specialist"], "00070", f"{HANOI}.00070")
    assert (await desk.upload(dossier["code"], DECLARATION, scan(), specialist)).status_code == 403
    neighbour = desk.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (await desk.upload(dossier["code"], DECLARATION, scan(), neighbour)).status_code == 404
    stranger = desk.citizen(personal_id())
    assert (await desk.upload(dossier["code"], DECLARATION, scan(), stranger)).status_code == 404
    assert (
        await desk.http.get(
            f"{desk.base}/applicants/documents",
            headers={**stranger, "X-Applicant-Id-Number": dossier["applicant_id"]},
        )
    ).status_code == 403
    assert (
        await desk.http.get(
            f"{desk.base}/applicants/documents",
            headers={**neighbour, "X-Applicant-Id-Number": dossier["applicant_id"]},
        )
    ).status_code == 404
    assert (await desk.documents(dossier["code"]))["documents"] == []


async def test_unknown_component_is_a_422_problem(desk: Desk) -> None:
    dossier = await desk.dossier()
    r = await desk.upload(dossier["code"], "Sổ hộ khẩu", scan())
    assert r.status_code == 422
    assert r.json()["type"].endswith("unknown-component")
    assert r.json()["errors"][0]["field"] == "body.component"
    assert DECLARATION in r.json()["detail"]


async def test_closed_dossier_takes_no_documents(desk: Desk) -> None:
    dossier = await desk.dossier(online=True)
    refused = await desk.http.post(
        f"{desk.base}/dossiers/{dossier['code']}/refuse",
        json={"reason": "Không thuộc thẩm quyền của UBND phường"},
        headers={**desk.officer, "If-Match": dossier["etag"]},
    )
    assert refused.status_code == 200, refused.text
    r = await desk.upload(dossier["code"], DECLARATION, scan())
    assert r.status_code == 409 and r.json()["type"].endswith("dossier-closed")


# ----- malformed requests ------------------------------------------------------------------------


async def test_malformed_uploads_get_4xx_problems_never_500(desk: Desk) -> None:
    dossier = await desk.dossier()
    url = f"{desk.base}/dossiers/{dossier['code']}/documents"

    async def post(**kwargs: object) -> httpx.Response:
        r = await desk.http.post(url, **kwargs)  # type: ignore[arg-type]
        assert 400 <= r.status_code < 500, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        return r

    no_boundary = await post(
        content=b"--x\r\nnonsense", headers={**desk.officer, "content-type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400
    broken = await post(
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n',
        headers={**desk.officer, "content-type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code in (400, 422)
    no_file = await post(
        data={"component": DECLARATION}, files={"other": ("a", b"x")}, headers=desk.officer
    )
    assert no_file.status_code in (400, 422)
    missing_component = await post(files={"file": ("a.pdf", scan(), PDF)}, headers=desk.officer)
    assert missing_component.status_code == 422
    assert any(e["field"] == "body.component" for e in missing_component.json()["errors"])
    bad_date = await desk.upload(dossier["code"], DECLARATION, scan(), valid_until="31/12/2027")
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["message_vi"]
    empty = await desk.upload(dossier["code"], DECLARATION, b"")
    assert empty.status_code == 422
    text = await post(content=b"hello", headers={**desk.officer, "content-type": "text/plain"})
    assert text.status_code == 415
    no_reference = await post(
        json={"component": DECLARATION, "source": "reference"}, headers=desk.officer
    )
    assert no_reference.status_code == 422

    async def chunked() -> object:
        yield b"--xyz\r\n"

    no_length = await post(
        content=chunked(),
        headers={**desk.officer, "content-type": "multipart/form-data; boundary=xyz"},
    )
    assert no_length.status_code == 411
    assert (await desk.documents(dossier["code"]))["documents"] == []
