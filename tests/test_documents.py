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
from tests.support import (
    BA_DINH,
    HANOI,
    HOAN_KIEM,
    Tokens,
    client_address,
    dossier_body,
    eventually,
    personal_id,
)

PROBLEM = "application/problem+json"
DECLARATION = "Tờ khai thay đổi thông tin cư trú"
RESIDENCE_PROOF = "Giấy tờ chứng minh chỗ ở hợp pháp"
PDF = "application/pdf"
# A ward of Hồ Chí Minh City, far from the Hà Nội desk of these tests.
HCMC, HCMC_WARD = "79", "26506"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)


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

    async def dossier(
        self,
        applicant: str | None = None,
        online: bool = False,
        consent: bool = False,
        officer: dict[str, str] | None = None,
        unit_code: str = HOAN_KIEM,
    ) -> dict:
        """A dossier filed online by the citizen or at a desk; with ``consent``, the citizen's
        consent to reuse, on the online form or, for a desk dossier, by their own call after."""
        body = dossier_body(
            channel="online" if online else "direct",
            unit_code=unit_code,
            document_reuse_consent=consent and online,
        )
        if applicant:
            body["applicant"]["id_number"] = applicant
        citizen = self.citizen(body["applicant"]["id_number"])
        headers = citizen if online else officer or self.officer
        r = await self.http.post(f"{self.base}/dossiers", json=body, headers=headers)
        assert r.status_code == 201, r.text
        dossier = r.json() | {
            "applicant_id": body["applicant"]["id_number"],
            "etag": r.headers["ETag"],
        }
        if consent and not online:
            await self.consent(dossier["code"], citizen)
        return dossier

    async def consent(self, code: str, citizen: dict[str, str]) -> None:
        r = await self.http.put(
            f"{self.base}/dossiers/{code}/document-reuse-consent",
            json={"granted": True},
            headers=citizen,
        )
        assert r.status_code == 200, r.text

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

    async def reusable(
        self, code: str, headers: dict[str, str] | None = None, **params: str
    ) -> httpx.Response:
        return await self.http.get(
            f"{self.base}/dossiers/{code}/reusable-documents",
            params=params,
            headers=headers or self.officer,
        )

    async def reference(
        self, code: str, reference: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/dossiers/{code}/documents",
            json={"component": RESIDENCE_PROOF, "reference": reference},
            headers=headers or self.officer,
        )

    async def history(self, code: str) -> list[dict]:
        r = await self.http.get(f"{self.base}/dossiers/{code}", headers=self.officer)
        assert r.status_code == 200, r.text
        return r.json()["history"]


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


async def test_the_documents_list_pages_with_next_cursor(desk: Desk) -> None:
    dossier = await desk.dossier()
    uploaded = []
    for component in (DECLARATION, RESIDENCE_PROOF, DECLARATION):
        r = await desk.upload(dossier["code"], component, scan())
        assert r.status_code == 201, r.text
        uploaded.append(r.json()["id"])
    url = f"{desk.base}/dossiers/{dossier['code']}/documents"

    seen: list[str] = []
    pages = 0
    params: dict[str, str] = {"limit": "2"}
    while True:
        r = await desk.http.get(url, params=params, headers=desk.officer)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        assert len(page["items"]) <= 2
        assert page["documents"] == page["items"]
        # The components' state is of the whole dossier, whichever page is read.
        assert page["missing"] == [] and page["input_digitised"] is True
        assert len(page["components"][0]["document_ids"]) == 2
        seen += [d["id"] for d in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": "2", "cursor": page["next_cursor"]}
    assert pages == 2
    assert seen == uploaded  # oldest first, each once

    everything = await desk.documents(dossier["code"])  # no cursor: the first (whole) page
    assert [d["id"] for d in everything["items"]] == uploaded
    assert everything["next_cursor"] is None
    bad = await desk.http.get(url, params={"cursor": "not-a-cursor"}, headers=desk.officer)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["errors"][0]["field"] == "query.cursor"


async def test_the_reusable_documents_list_pages_with_next_cursor(desk: Desk) -> None:
    citizen_id = personal_id()
    citizen = desk.citizen(citizen_id)
    earlier = []
    for _ in range(3):
        old = await desk.dossier(citizen_id)
        r = await desk.upload(old["code"], RESIDENCE_PROOF, scan())
        assert r.status_code == 201, r.text
        earlier.append(r.json()["id"])
    later = await desk.dossier(citizen_id, online=True)

    first = await desk.reusable(later["code"], citizen, limit="2")
    assert first.status_code == 200, first.text
    assert len(first.json()["items"]) == 2 and first.json()["next_cursor"]
    second = await desk.reusable(
        later["code"], citizen, limit="2", cursor=first.json()["next_cursor"]
    )
    assert second.status_code == 200, second.text
    assert second.json()["next_cursor"] is None
    ids = [d["id"] for d in first.json()["items"] + second.json()["items"]]
    assert ids == list(reversed(earlier))  # newest first, each once


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

    types = await eventually(on_the_broker)
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

    mine = await desk.reusable(later["code"], citizen, kind="giay-to-chung-minh-cho-o-hop-phap")
    assert mine.status_code == 200, mine.text
    assert mine.json()["dossier_code"] == later["code"]
    items = {d["id"]: d for d in mine.json()["items"]}
    assert items[original.json()["id"]]["reusable"] is True
    assert items[original.json()["id"]]["expired"] is False
    assert all(d["kind"] == "giay-to-chung-minh-cho-o-hop-phap" for d in items.values())
    # The dossier's own documents are not offered back to it.
    assert reused["id"] not in items
    # The applicant's own look at their papers is nobody else's access: nothing is recorded.
    actions = [a["action"] for a in await desk.history(later["code"])]
    assert "reusable_documents_viewed" not in actions
    # Without the applicant's consent, the desk handling this dossier sees nothing.
    assert (await desk.reusable(later["code"])).status_code == 403


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

    later = await desk.dossier(citizen_id, consent=True)
    other = await desk.reuse(later["code"], RESIDENCE_PROOF, strangers_doc.json()["id"])
    assert other.status_code == 404 and other.headers["content-type"].startswith(PROBLEM)
    cases = {
        "reuse-different-kind": (RESIDENCE_PROOF, declaration),
        "reuse-not-digitised": (RESIDENCE_PROOF, undigitised),
        "reuse-expired": (RESIDENCE_PROOF, expired),
    }
    listed = await desk.reusable(later["code"])
    assert listed.status_code == 200, listed.text
    offered = {d["id"]: d for d in listed.json()["items"]}
    assert offered[expired.json()["id"]]["expired"] is True
    assert offered[expired.json()["id"]]["reusable"] is False
    assert offered[declaration.json()["id"]]["expired"] is False
    assert undigitised.json()["id"] not in offered  # only digitised copies are offered
    assert strangers_doc.json()["id"] not in offered
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
    assert (await desk.reusable(dossier["code"], stranger)).status_code == 404
    assert (await desk.reusable(dossier["code"], neighbour)).status_code == 404
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


# ----- reuse: scope, consent, audit --------------------------------------------------------------


async def test_officer_elsewhere_cannot_reach_a_citizens_documents(desk: Desk) -> None:
    """The attack of issue 9: an officer of another province files a dossier in their own ward
    under a Hà Nội citizen's ID number, then tries to read that citizen's documents."""
    citizen_id = personal_id()
    hanoi = await desk.dossier(citizen_id, consent=True)
    original = await desk.upload(hanoi["code"], RESIDENCE_PROOF, scan("so do"))
    assert original.status_code == 201, original.text
    hcmc = desk.tokens.receptionist(HCMC_WARD, f"{HCMC}.{HCMC_WARD}")

    # The Hà Nội dossier is not theirs to find.
    assert (await desk.reusable(hanoi["code"], hcmc)).status_code == 404
    assert (
        await desk.reuse(hanoi["code"], RESIDENCE_PROOF, original.json()["id"], hcmc)
    ).status_code == 404
    # Their own dossier under the citizen's number, ticking the citizen's consent themself: 422.
    forged = dossier_body(unit_code=HCMC_WARD, document_reuse_consent=True)
    forged["applicant"]["id_number"] = citizen_id
    ticked = await desk.http.post(f"{desk.base}/dossiers", json=forged, headers=hcmc)
    assert ticked.status_code == 422, ticked.text
    assert ticked.json()["type"].endswith("consent-by-applicant-only")
    # Without the citizen's consent: 403.
    theirs = await desk.dossier(citizen_id, officer=hcmc, unit_code=HCMC_WARD)
    # They typed the citizen's ID and phone, so they know the lookup's verifier: the lookup
    # takes no consent for a dossier someone else filed.
    by_lookup = await desk.http.put(
        f"{desk.base}/lookup/{theirs['code']}/document-reuse-consent",
        json={"verifier": citizen_id[-4:], "granted": True},
        headers=client_address(),
    )
    assert by_lookup.status_code == 403, by_lookup.text
    refused = await desk.reusable(theirs["code"], hcmc)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["type"].endswith("reuse-consent-required") and refused.json()["title_vi"]
    taken = await desk.reuse(theirs["code"], RESIDENCE_PROOF, original.json()["id"], hcmc)
    assert taken.status_code == 403
    # Nor can they download it by its id: its dossier is not in their unit.
    download = await desk.http.get(
        f"{desk.base}/documents/{original.json()['id']}/content", headers=hcmc
    )
    assert download.status_code == 404
    # The old route that carried the ID number in its path is gone.
    old = await desk.http.get(f"{desk.base}/applicants/{citizen_id}/documents", headers=hcmc)
    assert old.status_code == 404
    assert (await desk.documents(theirs["code"], hcmc))["documents"] == []


async def test_consent_opens_the_documents_and_every_access_is_in_the_history(
    desk: Desk,
) -> None:
    citizen_id = personal_id()
    earlier = await desk.dossier(citizen_id)
    original = await desk.upload(earlier["code"], RESIDENCE_PROOF, scan("hop dong"))
    later = await desk.dossier(citizen_id, online=True)
    citizen = desk.citizen(citizen_id)

    assert (await desk.reusable(later["code"])).status_code == 403
    # Only the applicant consents: not the desk, not another citizen.
    url = f"{desk.base}/dossiers/{later['code']}/document-reuse-consent"
    by_desk = await desk.http.put(url, json={"granted": True}, headers=desk.officer)
    assert by_desk.status_code == 403
    by_stranger = await desk.http.put(
        url, json={"granted": True}, headers=desk.citizen(personal_id())
    )
    assert by_stranger.status_code == 404
    assert (await desk.reusable(later["code"])).status_code == 403

    given = await desk.http.put(url, json={"granted": True}, headers=citizen)
    assert given.status_code == 200, given.text
    assert given.json()["document_reuse_consent"] is True and given.json()["changed_at"]
    listed = await desk.reusable(later["code"])
    assert listed.status_code == 200, listed.text
    assert original.json()["id"] in {d["id"] for d in listed.json()["items"]}
    # The officer reads the file through their own dossier once reused, not across dossiers.
    assert all(d["content_url"] is None for d in listed.json()["items"])
    reused = await desk.reuse(later["code"], RESIDENCE_PROOF, original.json()["id"])
    assert reused.status_code == 201, reused.text
    got = await desk.http.get(
        f"{desk.base}/documents/{reused.json()['id']}/content", headers=desk.officer
    )
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")

    history = await desk.history(later["code"])
    audit = [a for a in history if a["action"] != "submit"]
    assert [a["action"] for a in audit] == [
        "reuse_consent_given",
        "reusable_documents_viewed",
        "document_reused",
    ]
    assert audit[0]["actor"] == citizen_id  # the applicant's own account
    assert {a["actor"] for a in audit[1:]} == {"cb.tiepnhan.00070"}
    assert {a["role"] for a in audit[1:]} == {"receptionist"}
    # The status does not move, and the entries carry no personal data.
    assert all(a["from_status"] == a["to_status"] == "submitted" for a in audit)
    applicant = dossier_body()["applicant"]
    for entry in audit[1:]:
        text = str(entry)
        assert citizen_id not in text and applicant["phone"] not in text
        assert applicant["name"] not in text
    assert original.json()["id"] in audit[2]["note"]
    # Seeing is not a change of the dossier: its version (ETag) stays.
    r = await desk.http.get(f"{desk.base}/dossiers/{later['code']}", headers=desk.officer)
    assert r.headers["ETag"] == later["etag"]
    assert r.json()["document_reuse_consent"] is True

    # Withdrawn, the documents are closed again; repeating a withdrawal records nothing more.
    for _ in range(2):
        withdrawn = await desk.http.put(url, json={"granted": False}, headers=citizen)
        assert withdrawn.status_code == 200 and withdrawn.json()["document_reuse_consent"] is False
    assert (await desk.reusable(later["code"])).status_code == 403
    actions = [a["action"] for a in await desk.history(later["code"])]
    assert actions.count("reuse_consent_withdrawn") == 1


async def test_consent_through_the_public_lookup_and_at_submission(desk: Desk) -> None:
    citizen_id = personal_id()
    earlier = await desk.dossier(citizen_id)
    original = await desk.upload(earlier["code"], RESIDENCE_PROOF, scan())
    # Filed online by the citizen themself, who then consents through the public lookup.
    later = await desk.dossier(citizen_id, online=True)
    url = f"{desk.base}/lookup/{later['code']}/document-reuse-consent"
    address = client_address()

    wrong = await desk.http.put(url, json={"verifier": "0000", "granted": True}, headers=address)
    assert wrong.status_code == 404 and wrong.json()["type"].endswith("lookup-not-found")
    malformed = await desk.http.put(
        url, json={"verifier": "12a4", "granted": True}, headers=address
    )
    assert malformed.status_code == 422
    assert (await desk.reusable(later["code"])).status_code == 403

    right = await desk.http.put(
        url, json={"verifier": citizen_id[-4:], "granted": True}, headers=address
    )
    assert right.status_code == 200, right.text
    assert right.json()["document_reuse_consent"] is True
    listed = await desk.reusable(later["code"])
    assert listed.status_code == 200
    assert original.json()["id"] in {d["id"] for d in listed.json()["items"]}
    consent = next(a for a in await desk.history(later["code"]) if a["action"].startswith("reuse"))
    assert consent["actor"] == "lookup" and consent["role"] == "applicant"
    # Consent given on the citizen's own online form opens the documents from the start.
    online = await desk.dossier(citizen_id, online=True, consent=True)
    assert (await desk.reusable(online["code"])).status_code == 200
    plain = await desk.dossier(citizen_id)
    assert (await desk.reusable(plain["code"])).status_code == 403
    # A desk dossier: the lookup's verifier is known to the desk that typed it, so it gives
    # no consent; the citizen gives it signed in.
    refused = await desk.http.put(
        f"{desk.base}/lookup/{plain['code']}/document-reuse-consent",
        json={"verifier": citizen_id[-4:], "granted": True},
        headers=address,
    )
    assert refused.status_code == 403, refused.text
    assert (await desk.reusable(plain["code"])).status_code == 403


async def test_only_handling_officers_of_an_open_dossier_see_earlier_documents(
    desk: Desk,
) -> None:
    dossier = await desk.dossier(consent=True, online=True)
    supervisor = desk.tokens.bearer("gs.00070", ["supervisor"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}")
    assert (await desk.reusable(dossier["code"], supervisor)).status_code == 403
    specialist = desk.tokens.bearer("cv.00070", ["specialist"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}")
    assert (await desk.reusable(dossier["code"], specialist)).status_code == 200
    refused = await desk.http.post(
        f"{desk.base}/dossiers/{dossier['code']}/refuse",
        json={"reason": "Không thuộc thẩm quyền của UBND phường"},
        headers={**desk.officer, "If-Match": dossier["etag"]},
    )
    assert refused.status_code == 200, refused.text
    closed = await desk.reusable(dossier["code"])
    assert closed.status_code == 409 and closed.json()["type"].endswith("dossier-closed")


# ----- content sniffing and references -----------------------------------------------------------


async def test_content_must_be_what_its_declared_type_says(desk: Desk, database_url: str) -> None:
    dossier = await desk.dossier()
    fake = b"MZ" + os.urandom(12)  # a Windows program, 14 bytes, named and declared a PDF
    r = await desk.upload(dossier["code"], DECLARATION, fake)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("content-type-mismatch") and r.json()["title_vi"]
    assert r.json()["errors"][0]["field"] == "body.file"
    assert await blob_rows(database_url, hashlib.sha256(fake).hexdigest()) == 0

    png_as_pdf = await desk.upload(dossier["code"], DECLARATION, PNG + os.urandom(8))
    assert png_as_pdf.status_code == 422
    for content_type, content in [
        ("application/x-msdownload", fake),
        ("text/html", b"<script>alert(1)</script>"),
        ("application/zip", b"PK\x03\x04" + os.urandom(12)),
    ]:
        unsupported = await desk.upload(
            dossier["code"], DECLARATION, content, content_type=content_type
        )
        assert unsupported.status_code == 415, (content_type, unsupported.text)
        assert unsupported.json()["type"].endswith("unsupported-media-type")
    undeclared = await desk.upload(
        dossier["code"], DECLARATION, fake, content_type="application/octet-stream"
    )
    assert undeclared.status_code == 415
    assert (await desk.documents(dossier["code"]))["documents"] == []

    png = PNG + os.urandom(16)
    image = await desk.upload(dossier["code"], DECLARATION, png, content_type="image/png")
    assert image.status_code == 201, image.text
    assert image.json()["content_type"] == "image/png"
    # Sent without a type of its own, a real PDF is stored as one.
    sniffed = await desk.upload(
        dossier["code"], RESIDENCE_PROOF, scan(), content_type="application/octet-stream"
    )
    assert sniffed.status_code == 201, sniffed.text
    assert sniffed.json()["content_type"] == PDF
    got = await desk.http.get(
        f"{desk.base}/documents/{image.json()['id']}/content", headers=desk.officer
    )
    assert got.headers["content-type"] == "image/png" and got.content == png


async def test_references_are_https_links_to_allowed_hosts_only(desk: Desk) -> None:
    dossier = await desk.dossier()
    for hostile in [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "http://dichvucong.gov.vn/kho-du-lieu/hd-thue-nha",
        "https://evil.example/dichvucong.gov.vn",
        "https://dichvucong.gov.vn.evil.example/x",
        "https://dichvucong.gov.vn@evil.example/x",
        "https://evil.example\\@dichvucong.gov.vn/x",
        "https://dichvucong.gov.vn:8443/x",
        "//dichvucong.gov.vn/x",
        "hd-thue-nha-2026",
    ]:
        r = await desk.reference(dossier["code"], hostile)
        assert r.status_code == 422, (hostile, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["errors"][0]["field"] == "body.reference", hostile
        assert r.json()["errors"][0]["message_vi"]
    assert (await desk.documents(dossier["code"]))["documents"] == []
    ok = await desk.reference(dossier["code"], "https://dichvucong.gov.vn/kho-du-lieu/hd-2026")
    assert ok.status_code == 201, ok.text
    sub = await desk.reference(dossier["code"], "https://kho.dichvucong.gov.vn/giay-to/1")
    assert sub.status_code == 201, sub.text


# ----- integration clients -----------------------------------------------------------------------


async def test_integration_client_attaches_to_its_own_dossiers_only(desk: Desk) -> None:
    lgsp = desk.tokens.bearer("lgsp-hanoi", ["integration"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}")
    body = dossier_body(channel="integration", external_id=f"HN-{os.urandom(6).hex()}")
    submitted = await desk.http.post(f"{desk.base}/dossiers", json=body, headers=lgsp)
    assert submitted.status_code == 201, submitted.text
    own = await desk.upload(submitted.json()["code"], DECLARATION, scan(), headers=lgsp)
    assert own.status_code == 201, own.text
    # Sent by a system, the file still waits for an officer's check to count as digitised.
    assert own.json()["digitised"] is False and own.json()["created_by"] == "lgsp-hanoi"

    at_desk = await desk.dossier()
    refused = await desk.upload(at_desk["code"], DECLARATION, scan(), headers=lgsp)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    other_client = desk.tokens.bearer(
        "post-office", ["integration"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}"
    )
    foreign = await desk.upload(submitted.json()["code"], DECLARATION, scan(), other_client)
    assert foreign.status_code == 403
    assert (await desk.documents(at_desk["code"]))["documents"] == []


async def test_a_reference_stored_before_references_were_checked_is_not_reused(
    desk: Desk, database_url: str
) -> None:
    citizen_id = personal_id()
    earlier = await desk.dossier(citizen_id)
    kept = await desk.reference(earlier["code"], "https://dichvucong.gov.vn/kho-du-lieu/hd-1")
    assert kept.status_code == 201, kept.text
    # As a row written by an earlier version that accepted any text as a reference.
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute(
            "UPDATE intake.documents SET reference = 'javascript:alert(1)' WHERE id = $1",
            kept.json()["id"],
        )
    finally:
        await conn.close()
    later = await desk.dossier(citizen_id, consent=True)
    listed = await desk.reusable(later["code"])
    offered = {d["id"]: d for d in listed.json()["items"]}
    assert offered[kept.json()["id"]]["reusable"] is False
    r = await desk.reuse(later["code"], RESIDENCE_PROOF, kept.json()["id"])
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("reuse-unsafe-reference") and r.json()["title_vi"]


async def test_the_change_feed_carries_status_changes_not_document_access(desk: Desk) -> None:
    lgsp = desk.tokens.bearer("lgsp-hanoi", ["integration"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}")
    body = dossier_body(
        channel="integration",
        external_id=f"HN-{os.urandom(6).hex()}",
        document_reuse_consent=True,
    )
    # A relayed consent is nobody's to check: the citizen gives it signed in.
    relayed = await desk.http.post(f"{desk.base}/dossiers", json=body, headers=lgsp)
    assert relayed.status_code == 422, relayed.text
    body["document_reuse_consent"] = False
    submitted = await desk.http.post(f"{desk.base}/dossiers", json=body, headers=lgsp)
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]
    await desk.consent(code, desk.citizen(body["applicant"]["id_number"]))
    assert (await desk.reusable(code)).status_code == 200
    assert "reusable_documents_viewed" in [a["action"] for a in await desk.history(code)]

    actions: list[str] = []
    params: dict[str, str | int] = {"limit": 500}
    while True:
        r = await desk.http.get(f"{desk.base}/integration/changes", params=params, headers=lgsp)
        assert r.status_code == 200, r.text
        page = r.json()
        actions += [c["action"] for c in page["items"] if c["dossier_code"] == code]
        if not page["has_more"]:
            break
        params["after"] = page["next_cursor"]
    assert actions == ["submit"]
