"""The slips of a dossier over HTTP: receipt, supplement request and refusal, as JSON and PDF."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import httpx
import pytest

from services.stack import Stack
from shared.pdf import qr_matrix
from tests.support import BA_DINH, HANOI, Tokens, dossier_body
from tests.unit.test_slips import pdf_text, qr_modules

PROBLEM = "application/problem+json"
PDF = "application/pdf"

SUPPLEMENT = {
    "items": [
        {"component": "Giấy tờ chứng minh chỗ ở hợp pháp", "reason": "Bản chụp không rõ"},
        {"component": "Tờ khai thay đổi thông tin cư trú", "reason": "Thiếu chữ ký chủ hộ"},
    ],
    "note": "Bổ sung trong 10 ngày làm việc",
}
REASON = "Thủ tục không thuộc thẩm quyền giải quyết của UBND phường"


class Desk:
    """A receptionist of Hoàn Kiếm, the dossiers they handle, and their slips."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = f"{stack.url('intake')}/v1/dossiers"
        self.tokens = tokens
        self.officer = tokens.receptionist()

    async def submit(self, channel: str) -> httpx.Response:
        body = dossier_body(channel=channel)
        r = await self.http.post(self.base, json=body, headers=self.officer)
        assert r.status_code == 201, r.text
        return r

    async def act(self, r: httpx.Response, action: str, json: dict | None = None) -> httpx.Response:
        headers = {**self.officer, "If-Match": r.headers["ETag"]}
        done = await self.http.post(
            f"{self.base}/{r.json()['code']}/{action}", headers=headers, json=json
        )
        assert done.status_code == 200, done.text
        return done

    async def slip(
        self,
        code: str,
        kind: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.http.get(
            f"{self.base}/{code}/slips/{kind}", headers=headers or self.officer, params=params
        )


@pytest.fixture
def desk(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Desk:
    return Desk(http, stack, tokens)


async def test_direct_submission_has_a_receipt_with_components_and_appointment(
    desk: Desk,
) -> None:
    r = await desk.submit("direct")
    dossier = r.json()
    slip = await desk.slip(dossier["code"], "receipt")
    assert slip.status_code == 200, slip.text
    body = slip.json()
    assert body["kind"] == "receipt" and body["dossier_code"] == dossier["code"]
    assert body["applicant"]["name"] == "Nguyễn Thị Lan"
    assert body["procedure_name"] == "Đăng ký thường trú" and body["procedure_code"] == "1.004222"
    assert body["unit"] == {
        "code": "00070",
        "name": body["unit"]["name"],
        "desk_name": "Bộ phận Một cửa",
    }
    assert "Hoàn Kiếm" in body["unit"]["name"]
    assert body["officer"] == "cb.tiepnhan.00070"
    at = {k: dt.datetime.fromisoformat(v) for k, v in body.items() if k.endswith("_at")}
    assert at["appointment_at"] == dt.datetime.fromisoformat(dossier["appointment_at"])
    assert at["received_at"] == dt.datetime.fromisoformat(dossier["received_at"])
    assert at["issued_at"] == at["received_at"]
    assert body["appointment_at"].endswith("+07:00")
    assert [c["name"] for c in body["components"]] == [
        "Tờ khai thay đổi thông tin cư trú",
        "Giấy tờ chứng minh chỗ ở hợp pháp",
    ]
    assert body["lookup_url"].endswith(f"/{dossier['code']}")


async def test_receipt_pdf_is_printable_vietnamese_with_a_qr_to_the_lookup(desk: Desk) -> None:
    code = (await desk.submit("direct")).json()["code"]
    lookup_url = (await desk.slip(code, "receipt")).json()["lookup_url"]
    pdf = await desk.slip(code, "receipt", headers={**desk.officer, "Accept": PDF})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == PDF
    text = pdf_text(pdf.content)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Nguyễn Thị Lan" in text and code in text
    assert qr_modules(pdf.content) == qr_matrix(lookup_url)
    # What the QR code opens: a form for the verifier, with only the code in its URL.
    assert "verifier" not in lookup_url
    page = await desk.http.get(desk.base.replace("/v1/dossiers", urlsplit(lookup_url).path))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert f"<strong>{code}</strong>" in page.text and 'name="verifier"' in page.text
    # Asking again gives the same document, byte for byte.
    again = await desk.slip(code, "receipt", params={"format": "pdf"})
    assert again.content == pdf.content and again.headers["ETag"] == pdf.headers["ETag"]


async def test_supplement_request_slip_lists_every_component_asked_for(desk: Desk) -> None:
    r = await desk.submit("postal")
    await desk.act(r, "request-supplement", json=SUPPLEMENT)
    code = r.json()["code"]
    slip = await desk.slip(code, "supplement-request")
    assert slip.status_code == 200, slip.text
    body = slip.json()
    assert body["kind"] == "supplement-request"
    assert body["items"] == SUPPLEMENT["items"]
    assert body["note"] == SUPPLEMENT["note"]
    pdf = await desk.slip(code, "supplement-request", params={"format": "pdf"})
    text = pdf_text(pdf.content)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    for item in SUPPLEMENT["items"]:
        assert f"{item['component']}: {item['reason']}" in text


async def test_refusal_slip_states_the_reason(desk: Desk) -> None:
    r = await desk.submit("postal")
    await desk.act(r, "refuse", json={"reason": REASON})
    code = r.json()["code"]
    body = (await desk.slip(code, "refusal")).json()
    assert body["kind"] == "refusal" and body["reason"] == REASON
    pdf = await desk.slip(code, "refusal", headers={**desk.officer, "Accept": PDF})
    text = pdf_text(pdf.content)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and REASON in text


async def test_a_slip_not_issued_in_the_dossiers_state_is_a_409(desk: Desk) -> None:
    received = (await desk.submit("direct")).json()["code"]
    refusal = await desk.slip(received, "refusal")
    assert refusal.status_code == 409
    assert refusal.headers["content-type"].startswith(PROBLEM)
    problem = refusal.json()
    assert problem["type"].endswith("slip-not-issued")
    assert problem["title_vi"] and "received" in problem["detail"]
    assert "Đã tiếp nhận" in problem["detail_vi"]
    waiting = (await desk.submit("postal")).json()["code"]
    assert (await desk.slip(waiting, "receipt")).status_code == 409
    assert (
        await desk.slip(waiting, "supplement-request", params={"format": "pdf"})
    ).status_code == 409


async def test_unknown_dossier_and_unknown_kind(desk: Desk) -> None:
    missing = await desk.slip("00070-000101-9999", "receipt")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    code = (await desk.submit("direct")).json()["code"]
    wrong = await desk.slip(code, "apology")
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith(PROBLEM)


async def test_another_unit_cannot_read_the_slip_but_the_applicant_can(desk: Desk) -> None:
    code = (await desk.submit("direct")).json()["code"]
    neighbour = desk.tokens.receptionist(BA_DINH, f"{HANOI}.{BA_DINH}")
    assert (await desk.slip(code, "receipt", headers=neighbour)).status_code == 404
    stranger = desk.tokens.bearer("001999888777", ["applicant"])
    assert (await desk.slip(code, "receipt", headers=stranger)).status_code == 404
    province = desk.tokens.province_officer()
    assert (await desk.slip(code, "receipt", headers=province)).status_code == 200


async def test_applicant_reads_the_slip_of_their_own_dossier(desk: Desk) -> None:
    body = dossier_body(channel="online")
    citizen = desk.tokens.bearer(body["applicant"]["id_number"], ["applicant"])
    r = await desk.http.post(desk.base, json=body, headers=citizen)
    assert r.status_code == 201, r.text
    await desk.act(r, "request-supplement", json=SUPPLEMENT)
    mine = await desk.slip(r.json()["code"], "supplement-request", headers=citizen)
    assert mine.status_code == 200 and mine.json()["items"] == SUPPLEMENT["items"]
