"""Citizens see their own, only, over HTTP: an applicant token is scoped by its verified subject
(the personal ID number), never by unit claims; filing for another person needs the authorised
representative (người được ủy quyền), who then sees the dossier as well as the person named; the
applicant reads their own slips and ratings; integration clients withdraw only what they
submitted."""

from __future__ import annotations

import httpx
import pytest

from services.stack import Stack
from tests.support import (
    HANOI,
    HOAN_KIEM,
    Tokens,
    client_address,
    dossier_body,
    eventually,
    personal_id,
)
from tests.unit.test_slips import pdf_text

PROBLEM = "application/problem+json"
PDF = "application/pdf"


def representative(id_number: str, **extra: object) -> dict[str, object]:
    return {
        "name": "Trần Văn Bình",
        "id_number": id_number,
        "relationship": "con",
        "authorisation_ref": "125/2026/GUQ",
        "authorisation_date": "2026-01-15",
        **extra,
    }


class Citizens:
    """Hoàn Kiếm's desk, its citizens online, and two integration clients of the same ward."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = f"{stack.url('intake')}/v1/dossiers"
        self.workflow = stack.url("workflow")
        self.tokens = tokens
        self.officer = tokens.receptionist()

    def citizen(self, id_number: str, **claims: str) -> dict[str, str]:
        return self.tokens.bearer(id_number, ["applicant"], **claims)

    def client(self, name: str) -> dict[str, str]:
        return self.tokens.bearer(name, ["integration"], HOAN_KIEM, f"{HANOI}.{HOAN_KIEM}")

    async def submit(self, body: dict, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(self.base, json=body, headers=headers)

    async def at_desk(self, **extra: object) -> dict:
        r = await self.submit(dossier_body(channel="direct", **extra), self.officer)
        assert r.status_code == 201, r.text
        return {**r.json(), "etag": r.headers["ETag"]}

    async def online(self) -> tuple[dict, dict[str, str], str]:
        body = dossier_body(channel="online")
        id_number = body["applicant"]["id_number"]
        citizen = self.citizen(id_number)
        r = await self.submit(body, citizen)
        assert r.status_code == 201, r.text
        return {**r.json(), "etag": r.headers["ETag"]}, citizen, id_number

    async def read(self, code: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.get(f"{self.base}/{code}", headers=headers)

    async def codes(self, headers: dict[str, str]) -> set[str]:
        found: set[str] = set()
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            r = await self.http.get(self.base, params=params, headers=headers)
            assert r.status_code == 200, r.text
            found |= {d["code"] for d in r.json()["items"]}
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return found

    async def act(
        self, dossier: dict, action: str, headers: dict[str, str], etag: str | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/{dossier['code']}/{action}",
            headers={**headers, "If-Match": etag or dossier["etag"]},
        )


@pytest.fixture
def citizens(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Citizens:
    return Citizens(http, stack, tokens)


async def test_unit_claims_on_an_applicant_token_open_nothing(citizens: Citizens) -> None:
    desk = await citizens.at_desk()
    mine, _, id_number = await citizens.online()
    # The citizen's own token, as a portal might mint it with their residence's unit claims.
    for claims in ({"unit": HOAN_KIEM, "unit_path": f"{HANOI}.{HOAN_KIEM}"}, {"unit_path": HANOI}):
        widened = citizens.citizen(id_number, **claims)
        assert await citizens.codes(widened) == {mine["code"]}
        assert (await citizens.read(mine["code"], widened)).status_code == 200
        other = await citizens.read(desk["code"], widened)
        assert other.status_code == 404 and other.headers["content-type"].startswith(PROBLEM)
        slip = await citizens.http.get(
            f"{citizens.base}/{desk['code']}/slips/receipt", headers=widened
        )
        assert slip.status_code == 404
        ratings = await citizens.http.get(
            f"{citizens.base}/{desk['code']}/ratings", headers=widened
        )
        assert ratings.status_code == 404
        documents = await citizens.http.get(
            f"{citizens.base}/{desk['code']}/documents", headers=widened
        )
        assert documents.status_code == 404
        # Nor can the claims be used to act on a neighbour's dossier.
        assert (await citizens.act(desk, "withdraw", widened)).status_code == 404
    # The officer whose unit it is still sees both.
    assert {desk["code"], mine["code"]} <= await citizens.codes(citizens.officer)


async def test_unit_claims_on_an_applicant_token_open_no_case_in_workflow(
    citizens: Citizens,
) -> None:
    desk = await citizens.at_desk()

    async def case_id() -> str | None:
        return (await citizens.read(desk["code"], citizens.officer)).json()["case_id"]

    case = await eventually(case_id)
    url = f"{citizens.workflow}/v1/cases/{case}"
    assert (await citizens.http.get(url, headers=citizens.officer)).status_code == 200
    widened = citizens.citizen(personal_id(), unit=HOAN_KIEM, unit_path=HANOI)
    assert (await citizens.http.get(url, headers=widened)).status_code == 404
    listed = await citizens.http.get(f"{citizens.workflow}/v1/cases", headers=widened)
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_filing_under_another_persons_id_needs_the_representative(
    citizens: Citizens,
) -> None:
    filer = personal_id()
    token = citizens.citizen(filer)
    body = dossier_body(channel="online")  # under someone else's ID number
    bare = await citizens.submit(body, token)
    assert bare.status_code == 422 and bare.headers["content-type"].startswith(PROBLEM)
    problem = bare.json()
    assert problem["type"].endswith("representative-required")
    assert problem["title_vi"] and problem["errors"][0]["field"] == "body.representative"
    assert problem["errors"][0]["message_vi"]
    # The representative named must be the person signed in, and not the applicant themself.
    somebody = await citizens.submit(
        {**body, "representative": representative(personal_id())}, token
    )
    assert somebody.status_code == 422
    assert somebody.json()["errors"][0]["field"] == "body.representative.id_number"
    themself = await citizens.submit(
        {**body, "representative": representative(body["applicant"]["id_number"])}, token
    )
    assert themself.status_code == 422
    future = await citizens.submit(
        {**body, "representative": representative(filer, authorisation_date="2999-01-01")}, token
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "body.representative.authorisation_date"
    incomplete = representative(filer)
    del incomplete["authorisation_ref"]
    assert (await citizens.submit({**body, "representative": incomplete}, token)).status_code == 422

    filed = await citizens.submit({**body, "representative": representative(filer)}, token)
    assert filed.status_code == 201, filed.text
    code = filed.json()["code"]
    assert filed.json()["representative"] == representative(filer, phone=None)
    # Visible to the representative, to the person it was filed for, and to the desk.
    applicant = citizens.citizen(body["applicant"]["id_number"])
    for who in (token, applicant, citizens.officer):
        seen = await citizens.read(code, who)
        assert seen.status_code == 200, seen.text
        assert seen.json()["representative"]["id_number"] == filer
        assert seen.json()["representative"]["authorisation_ref"] == "125/2026/GUQ"
        assert code in await citizens.codes(who)
    stranger = citizens.citizen(personal_id())
    assert (await citizens.read(code, stranger)).status_code == 404
    assert code not in await citizens.codes(stranger)


async def test_the_representative_attaches_documents_to_the_dossier_they_filed(
    citizens: Citizens,
) -> None:
    filer = personal_id()
    token = citizens.citizen(filer)
    filed = await citizens.submit(
        dossier_body(channel="online", representative=representative(filer)), token
    )
    assert filed.status_code == 201, filed.text
    code = filed.json()["code"]
    scan = b"%PDF-1.7\n% " + code.encode() + b"\n%%EOF\n"
    attached = await citizens.http.post(
        f"{citizens.base}/{code}/documents",
        files={"file": ("giay-uy-quyen.pdf", scan, PDF)},
        data={"component": "Tờ khai thay đổi thông tin cư trú"},
        headers=token,
    )
    assert attached.status_code == 201, attached.text
    stranger = await citizens.http.post(
        f"{citizens.base}/{code}/documents",
        files={"file": ("x.pdf", scan, PDF)},
        data={"component": "Tờ khai thay đổi thông tin cư trú"},
        headers=citizens.citizen(personal_id()),
    )
    assert stranger.status_code == 404


async def test_filing_for_oneself_needs_no_representative(citizens: Citizens) -> None:
    body = dossier_body(channel="online")
    token = citizens.citizen(body["applicant"]["id_number"])
    r = await citizens.submit(body, token)
    assert r.status_code == 201, r.text
    assert r.json()["representative"] is None
    # Online, naming another person as one's representative is not a thing one can do.
    named = await citizens.submit(
        {**dossier_body(channel="online", applicant=body["applicant"])}
        | {"representative": representative(personal_id())},
        token,
    )
    assert named.status_code == 422


async def test_desk_records_a_representative_who_then_sees_the_dossier(
    citizens: Citizens,
) -> None:
    proxy = personal_id()
    dossier = await citizens.at_desk(representative=representative(proxy, phone="0987654321"))
    assert dossier["representative"]["id_number"] == proxy
    assert dossier["representative"]["phone"] == "0987654321"
    seen = await citizens.read(dossier["code"], citizens.citizen(proxy))
    assert seen.status_code == 200 and seen.json()["representative"]["name"] == "Trần Văn Bình"
    # The receipt names the representative and the authorisation, not their ID number.
    slip_url = f"{citizens.base}/{dossier['code']}/slips/receipt"
    slip = await citizens.http.get(slip_url, headers=citizens.citizen(proxy))
    assert slip.status_code == 200, slip.text
    assert slip.json()["representative"] == {
        "name": "Trần Văn Bình",
        "relationship": "con",
        "authorisation_ref": "125/2026/GUQ",
        "authorisation_date": "2026-01-15",
    }
    pdf = await citizens.http.get(slip_url, params={"format": "pdf"}, headers=citizens.officer)
    text = pdf_text(pdf.content)
    assert "Người được ủy quyền" in text and "125/2026/GUQ, ngày 15/01/2026" in text
    assert proxy not in text


async def test_applicant_downloads_their_own_receipt_slip(citizens: Citizens) -> None:
    mine, citizen, _ = await citizens.online()
    received = await citizens.act(mine, "receive", citizens.officer)
    assert received.status_code == 200, received.text
    pdf = await citizens.http.get(
        f"{citizens.base}/{mine['code']}/slips/receipt", params={"format": "pdf"}, headers=citizen
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == PDF and pdf.content.startswith(b"%PDF")
    as_json = await citizens.http.get(
        f"{citizens.base}/{mine['code']}/slips/receipt", headers=citizen
    )
    assert as_json.status_code == 200 and as_json.json()["dossier_code"] == mine["code"]
    desk = await citizens.at_desk()
    other = await citizens.http.get(
        f"{citizens.base}/{desk['code']}/slips/receipt", params={"format": "pdf"}, headers=citizen
    )
    assert other.status_code == 404 and other.headers["content-type"].startswith(PROBLEM)


async def test_applicant_rates_their_own_dossier_and_reads_the_rating(
    citizens: Citizens,
) -> None:
    mine, citizen, _ = await citizens.online()
    url = f"{citizens.base}/{mine['code']}/ratings"
    rated = await citizens.http.post(
        url, json={"channel": "online", "score": 5}, headers={**citizen, **client_address()}
    )
    assert rated.status_code == 201, rated.text
    read = await citizens.http.get(url, headers=citizen)
    assert read.status_code == 200
    assert [(r["channel"], r["score"]) for r in read.json()] == [("online", 5)]
    stranger = citizens.citizen(personal_id(), unit=HOAN_KIEM, unit_path=HANOI)
    assert (await citizens.http.get(url, headers=stranger)).status_code == 404
    other = await citizens.http.post(
        url, json={"channel": "online", "score": 1}, headers={**stranger, **client_address()}
    )
    assert other.status_code == 404


async def test_the_representative_rates_the_dossier_they_filed(citizens: Citizens) -> None:
    filer = personal_id()
    token = citizens.citizen(filer)
    body = dossier_body(channel="online", representative=representative(filer))
    filed = await citizens.submit(body, token)
    assert filed.status_code == 201, filed.text
    url = f"{citizens.base}/{filed.json()['code']}/ratings"
    rated = await citizens.http.post(
        url, json={"channel": "online", "score": 4}, headers={**token, **client_address()}
    )
    assert rated.status_code == 201, rated.text
    assert (await citizens.http.get(url, headers=token)).json()[0]["score"] == 4


async def test_integration_client_withdraws_only_what_it_submitted(citizens: Citizens) -> None:
    lgsp, post = citizens.client("lgsp-hanoi"), citizens.client("buudien-hanoi")
    r = await citizens.submit(dossier_body(channel="integration"), lgsp)
    assert r.status_code == 201, r.text
    own = {**r.json(), "etag": r.headers["ETag"]}
    desk = await citizens.at_desk()

    at_desk = await citizens.act(desk, "withdraw", lgsp)
    assert at_desk.status_code == 403 and at_desk.headers["content-type"].startswith(PROBLEM)
    assert at_desk.json()["detail_vi"]
    assert (await citizens.act(own, "withdraw", post)).status_code == 403
    # Neither attempt changed anything.
    # (The desk dossier moves on to processing by itself once workflow opens its case.)
    assert (await citizens.read(desk["code"], citizens.officer)).json()["status"] in (
        "received",
        "in_processing",
    )
    assert (await citizens.read(own["code"], citizens.officer)).json()["status"] == "submitted"

    withdrawn = await citizens.act(own, "withdraw", lgsp)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"

    # The desk still withdraws at the applicant's request (at the version it reads now: the
    # case opening in workflow moves the dossier on meanwhile).
    async def processing() -> str | None:
        r = await citizens.read(desk["code"], citizens.officer)
        return r.headers["ETag"] if r.json()["status"] == "in_processing" else None

    current = await eventually(processing, timeout=60, interval=0.2)
    by_desk = await citizens.act(desk, "withdraw", citizens.officer, etag=current)
    assert by_desk.status_code == 200, by_desk.text


async def test_a_repeat_by_external_id_with_another_representative_is_a_conflict(
    citizens: Citizens,
) -> None:
    lgsp = citizens.client("lgsp-hanoi")
    body = dossier_body(
        channel="integration",
        external_id=f"HN-{personal_id()}",
        representative=representative(personal_id()),
    )
    first = await citizens.submit(body, lgsp)
    assert first.status_code == 201, first.text
    assert first.json()["representative"]["id_number"] == body["representative"]["id_number"]
    assert (await citizens.submit(body, lgsp)).status_code == 200
    other = {**body, "representative": representative(personal_id())}
    conflict = await citizens.submit(other, lgsp)
    assert conflict.status_code == 409 and conflict.headers["content-type"].startswith(PROBLEM)
