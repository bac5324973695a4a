"""Public lookup over HTTP: the verifier, the one 404 for everything, and both rate limits."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import httpx
import pytest

from services.stack import Stack
from tests.support import Tokens, client_address, dossier_body

PROBLEM = "application/problem+json"


def address() -> dict[str, str]:
    """A client address of its own per test (uvicorn trusts X-Forwarded-For from loopback), so
    the per-address limit of one test does not spill into another."""
    return client_address()


class Public:
    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self.http = http
        self.base = stack.url("intake")
        self.tokens = tokens
        self.client = client_address()

    async def received_dossier(self) -> dict:
        body = dossier_body(channel="direct")
        r = await self.http.post(
            f"{self.base}/v1/dossiers", json=body, headers=self.tokens.receptionist()
        )
        assert r.status_code == 201, r.text
        return {**r.json(), "id_number": body["applicant"]["id_number"]}

    async def lookup(
        self, code: str, verifier: str, client: dict[str, str] | None = None
    ) -> httpx.Response:
        """The form a lookup page uses: code and verifier in the body, out of every URL."""
        return await self.http.post(
            f"{self.base}/v1/lookup",
            json={"code": code, "verifier": verifier},
            headers=client or self.client,
        )

    async def qr_lookup(
        self, code: str, verifier: str, client: dict[str, str] | None = None
    ) -> httpx.Response:
        """The form the page the slip's QR code opens uses: the verifier in a header."""
        return await self.http.get(
            f"{self.base}/v1/lookup/{code}",
            headers={**(client or self.client), "X-Lookup-Verifier": verifier},
        )


@pytest.fixture
def public(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Public:
    return Public(http, stack, tokens)


def _without_request_specifics(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}


async def test_lookup_by_id_digits_shows_status_and_history_without_officers(
    public: Public,
) -> None:
    dossier = await public.received_dossier()
    r = await public.lookup(dossier["code"], dossier["id_number"][-4:])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "received" and body["status_label_vi"] == "Đã tiếp nhận"
    assert body["procedure_name"] == dossier["procedure_name"]
    assert body["unit_code"] == "00070" and body["unit_name"]
    assert body["appointment_at"] and body["received_at"]
    assert [s["action"] for s in body["history"]] == ["submit", "receive"]
    assert body["history"][0]["action_label_vi"] == "Nộp hồ sơ"
    for step in body["history"]:
        assert set(step) == {"action", "action_label_vi", "status", "status_label_vi", "at"}
    assert "cb.tiepnhan" not in r.text and "applicant" not in body
    assert r.headers["cache-control"] == "no-store"
    qr = await public.qr_lookup(dossier["code"], dossier["id_number"][-4:])
    assert qr.status_code == 200 and qr.json() == body


async def test_lookup_by_phone_digits(public: Public) -> None:
    dossier = await public.received_dossier()
    assert (await public.lookup(dossier["code"], "5678")).status_code == 200
    assert (await public.qr_lookup(dossier["code"], "5678")).status_code == 200
    # The verifier is never taken from the URL, where proxies and access logs keep it.
    in_url = await public.http.get(
        f"{public.base}/v1/lookup/{dossier['code']}",
        params={"verifier": "5678"},
        headers=public.client,
    )
    assert in_url.status_code == 422
    assert in_url.json()["errors"][0]["field"] == "header.X-Lookup-Verifier"


async def test_codes_of_one_day_are_not_a_sequence(public: Public) -> None:
    first = await public.received_dossier()
    second = await public.received_dossier()
    prefix = first["code"].rsplit("-", 2)[0]
    assert second["code"].startswith(prefix)  # unit and day stay readable
    assert re.fullmatch(r"00070-\d{6}-[0-9A-Z]{4}-[0-9A-Z]{4}", first["code"])
    assert (
        first["code"][len(prefix) : len(prefix) + 5]
        != second["code"][len(prefix) : len(prefix) + 5]
    )


async def test_wrong_verifier_and_unknown_code_give_the_same_404(public: Public) -> None:
    dossier = await public.received_dossier()
    wrong = await public.lookup(dossier["code"], "0000")
    unknown = await public.lookup("00070-991231-ZZZZ-9999", "0000")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.headers["content-type"].startswith(PROBLEM)
    assert _without_request_specifics(wrong.json()) == _without_request_specifics(unknown.json())
    assert wrong.json()["title_vi"]


async def test_malformed_or_missing_verifier_is_a_validation_problem(public: Public) -> None:
    r = await public.lookup("00070-991231-ZZZZ-9999", "12a4")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.verifier"
    r = await public.qr_lookup("00070-991231-ZZZZ-9999", "12a4")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "header.X-Lookup-Verifier"
    r = await public.http.get(
        f"{public.base}/v1/lookup/00070-991231-ZZZZ-9999", headers=public.client
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "header.X-Lookup-Verifier"


async def test_wrong_verifiers_lock_out_the_guesser_not_the_owner(public: Public) -> None:
    dossier = await public.received_dossier()
    guesser = address()
    for _ in range(10):  # the default lookup_failures_per_code_per_hour
        assert (await public.lookup(dossier["code"], "0000", guesser)).status_code == 404
    locked = await public.lookup(dossier["code"], dossier["id_number"][-4:], guesser)
    assert locked.status_code == 429
    assert locked.json()["type"].endswith("lookup-locked")
    assert 3500 <= int(locked.headers["retry-after"]) <= 3600
    # The owner, from their own address, still reads their dossier.
    owner = await public.lookup(dossier["code"], dossier["id_number"][-4:], address())
    assert owner.status_code == 200, owner.text


async def test_ten_forged_addresses_on_one_code_each_get_locked_and_another_code_works(
    public: Public,
) -> None:
    """Ten addresses behind the trusted proxy guessing one code: each is locked out of that
    code after its own ten misses; the same addresses still look up another dossier, and the
    owner is never locked out."""
    target = await public.received_dossier()
    other = await public.received_dossier()
    attackers = [address() for _ in range(10)]
    for attacker in attackers:
        statuses = [
            (await public.lookup(target["code"], f"{i:04d}", attacker)).status_code
            for i in range(11)
            if f"{i:04d}" not in (target["id_number"][-4:], "5678")
        ]
        assert statuses[:10] == [404] * 10 and statuses[10:] == [429] * len(statuses[10:])
        assert (
            await public.lookup(target["code"], target["id_number"][-4:], attacker)
        ).status_code == 429
        assert (
            await public.lookup(other["code"], other["id_number"][-4:], attacker)
        ).status_code == 200
    assert (
        await public.lookup(target["code"], target["id_number"][-4:], address())
    ).status_code == 200


async def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    stack: Stack, tokens: Tokens
) -> None:
    """A peer that is not a configured proxy (127.0.0.2 here; only 127.0.0.1 is trusted)
    cannot pick an address per request: all its lookups count against the peer itself."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(transport=transport, timeout=30) as untrusted:
        public = Public(untrusted, stack, tokens)
        dossier = await Public(untrusted, stack, tokens).received_dossier()
        statuses = [
            (await public.lookup(dossier["code"], dossier["id_number"][-4:], address())).status_code
            for _ in range(21)
        ]
    assert statuses == [200] * 20 + [429], statuses


async def test_unknown_codes_lock_the_same_way(public: Public) -> None:
    """Otherwise the lock itself would tell which codes exist."""
    code = f"00070-991231-ZZZZ-{uuid.uuid4().int % 10000:04d}"
    statuses = [(await public.lookup(code, "0000")).status_code for _ in range(11)]
    assert statuses == [404] * 10 + [429]


async def test_one_address_is_limited_per_minute_others_are_not(public: Public) -> None:
    dossier = await public.received_dossier()
    verifier = dossier["id_number"][-4:]
    statuses = [(await public.lookup(dossier["code"], verifier)).status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]  # the default lookup_rate_per_minute
    limited = await public.lookup(dossier["code"], verifier)
    assert limited.json()["type"].endswith("too-many-requests")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert (await public.lookup(dossier["code"], verifier, address())).status_code == 200


async def test_the_qr_page_escapes_what_it_is_given(http: httpx.AsyncClient, stack: Stack) -> None:
    """The page echoes the code from its URL: markup in it stays text."""
    hostile = "<img src=x onerror=alert(1)>"
    r = await http.get(f"{stack.url('intake')}/v1/lookup-page/{quote(hostile, safe='')}")
    assert r.status_code == 200, r.text
    assert "<img" not in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
