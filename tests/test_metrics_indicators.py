"""Indicators over HTTP, fed by events published to the broker as the other services publish them.

The events describe dossiers that no other service knows: intake would rightly dead-letter a case
opened for an unknown dossier, workflow would open cases for the invented receipts, and payment
would raise fees. So these tests run a metrics service of their own on the suite's database and
broker, under a topic namespace that only it reads. Each test works on a unit of its own (a random
ward under Hà Nội), so its counts start at zero."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.stack import Infrastructure, Stack, free_ports
from shared.events import (
    CaseOpened,
    CaseResolved,
    DossierDigitised,
    DossierRated,
    DossierReceived,
    DossierWithdrawn,
    Event,
    FeeRequested,
    PaymentSucceeded,
)
from shared.events.envelope import Envelope, ce_headers, encode_data, wrap
from tests.conftest import TEST_DATA
from tests.support import HANOI, Tokens, eventually

ICT = dt.timezone(dt.timedelta(hours=7))
PERIOD = "2026-11"
PROCEDURE = "1.004222"  # Đăng ký thường trú


def at(day: int, hour: int = 9, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ICT)


class Unit:
    """A ward of its own under Hà Nội, and the dossiers the test makes there."""

    def __init__(self) -> None:
        self.code = f"9{random.randrange(10000):04d}"
        self.path = f"{HANOI}.{self.code}"

    def dossier(self) -> Dossier:
        return Dossier(self, uuid.uuid4(), f"{self.code}-261102-{random.randrange(10000):04d}")


class Dossier:
    def __init__(self, unit: Unit, id: uuid.UUID, code: str) -> None:
        self.unit, self.id, self.code = unit, id, code

    def _lifecycle(self, when: dt.datetime, channel: str) -> dict[str, Any]:
        return {
            "dossier_id": self.id,
            "dossier_code": self.code,
            "procedure_code": PROCEDURE,
            "unit_code": self.unit.code,
            "unit_path": self.unit.path,
            "channel": channel,
            "at": when,
            "actor": f"cb.tiepnhan.{self.unit.code}",
        }

    def _case(self) -> dict[str, Any]:
        return {"dossier_id": self.id, "dossier_code": self.code, "unit_path": self.unit.path}

    def received(self, channel: str = "online", fee: int = 20000, day: int = 2) -> DossierReceived:
        return DossierReceived(
            dossier_id=self.id,
            dossier_code=self.code,
            procedure_code=PROCEDURE,
            procedure_name="Đăng ký thường trú",
            unit_code=self.unit.code,
            unit_path=self.unit.path,
            channel=channel,  # type: ignore[arg-type]
            received_at=at(day),
            appointment_at=at(day + 7, 17),
            processing_working_days=7,
            fee_amount_vnd=fee,
            applicant_name="Trần Văn Minh",
        )

    def digitised(self, channel: str = "online") -> DossierDigitised:
        return DossierDigitised(
            **self._lifecycle(at(2, 10), channel),
            components=["Tờ khai thay đổi thông tin cư trú", "Giấy tờ chứng minh chỗ ở hợp pháp"],
        )

    def opened(self) -> CaseOpened:
        return CaseOpened(
            case_id=uuid.uuid4(), **self._case(), opened_at=at(2, 10), due_at=at(9, 17)
        )

    def resolved(
        self, day: int, timeliness: str, outcome: str = "approved", digitised: bool = True
    ) -> CaseResolved:
        return CaseResolved(
            case_id=uuid.uuid4(),
            **self._case(),
            outcome=outcome,  # type: ignore[arg-type]
            reason="Chỗ ở không đủ diện tích tối thiểu" if outcome == "rejected" else None,
            resolved_at=at(day, 15),
            due_at=at(9, 17),
            result_digitised=digitised,
            timeliness=timeliness,  # type: ignore[arg-type]
        )

    def fee_requested(self) -> FeeRequested:
        return FeeRequested(
            fee_request_id=uuid.uuid4(), **self._case(), amount_vnd=20000, requested_at=at(2, 10)
        )

    def paid(self, online: bool = True) -> PaymentSucceeded:
        return PaymentSucceeded(
            payment_id=uuid.uuid4(),
            **self._case(),
            purpose="fee",
            amount_vnd=20000,
            online=online,
            paid_at=at(2, 11),
        )

    def rated(self, rating_channel: str, score: int, channel: str = "online") -> DossierRated:
        return DossierRated(
            **self._lifecycle(at(12), channel),
            rating_channel=rating_channel,  # type: ignore[arg-type]
            score=score,
            satisfied=score >= 4,
        )

    def withdrawn(self, channel: str = "direct") -> DossierWithdrawn:
        return DossierWithdrawn(
            **self._lifecycle(at(4), channel), reason="Công dân xin rút hồ sơ", was_received=True
        )


class Broker:
    def __init__(self, producer: AIOKafkaProducer, namespace: str) -> None:
        self._producer, self._namespace = producer, namespace

    async def publish(self, event: Event) -> Envelope:
        env = wrap(event, source="/motcua/test", subject=getattr(event, "dossier_code", None))
        await self.send(env)
        return env

    async def send(self, env: Envelope) -> None:
        """Send an envelope as it is: sending it twice is a redelivery (same ``ce_id``)."""
        await self._producer.send_and_wait(
            self._namespace + env.topic,
            key=env.key.encode(),
            value=encode_data(env.data),
            headers=[(k, v.encode()) for k, v in ce_headers(env).items()],
        )


@pytest.fixture(scope="module")
def metrics(infra: Infrastructure, database_url: str) -> Iterator[Stack]:
    """The metrics service alone, reading a topic namespace of its own."""
    stack = Stack(
        database_url,
        infra.bootstrap_servers,
        keys_dir=TEST_DATA / "keys",
        ports=free_ports(),
        log_dir=TEST_DATA / "logs-metrics",
        extra_env={"TOPIC_NAMESPACE": f"metrics{uuid.uuid4().hex[:8]}.", "LOG_JSON": "true"},
    )
    try:
        stack.start(["metrics"])
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def tokens(metrics: Stack) -> Tokens:
    return Tokens(metrics.private_key_file.read_bytes())


@pytest.fixture
async def broker(infra: Infrastructure, metrics: Stack) -> AsyncIterator[Broker]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers)
    await producer.start()
    try:
        yield Broker(producer, metrics.extra_env["TOPIC_NAMESPACE"])
    finally:
        await producer.stop()


class Reader:
    def __init__(self, http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> None:
        self._http, self._base = http, f"{stack.url('metrics')}/v1"
        self._headers = tokens.province_officer()

    async def indicators(self, unit: Unit, procedure_code: str = "*") -> dict[str, Any]:
        r = await self._http.get(
            f"{self._base}/indicators",
            params={"unit_code": unit.code, "period": PERIOD, "procedure_code": procedure_code},
            headers=self._headers,
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def received(self, unit: Unit) -> dict[str, Any]:
        r = await self._http.get(
            f"{self._base}/indicators/received",
            params={"unit_code": unit.code, "period": PERIOD},
            headers=self._headers,
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def counts_become(
        self, unit: Unit, expected: dict[str, int], procedure_code: str = "*"
    ) -> dict[str, Any]:
        """Wait until the non-zero counts are exactly ``expected``."""

        async def probe() -> dict[str, Any] | None:
            body = await self.indicators(unit, procedure_code)
            nonzero = {k: v for k, v in body["counts"].items() if v}
            return body if nonzero == expected else None

        try:
            return await eventually(probe, interval=0.2)
        except AssertionError:
            now = await self.indicators(unit, procedure_code)
            raise AssertionError(f"counts {now['counts']} never became {expected}") from None

    async def fact(self, dossier: Dossier, field: str) -> dict[str, Any]:
        """Wait until metrics' fact of the dossier has ``field`` set."""

        async def probe() -> dict[str, Any] | None:
            r = await self._http.get(f"{self._base}/facts/{dossier.id}", headers=self._headers)
            return r.json() if r.status_code == 200 and r.json()[field] is not None else None

        return await eventually(probe, interval=0.2)


@pytest.fixture
def reader(http: httpx.AsyncClient, metrics: Stack, tokens: Tokens) -> Reader:
    return Reader(http, metrics, tokens)


def ratio(body: dict[str, Any], name: str) -> tuple[int, int]:
    r = body["rates"][name]
    return r["numerator"], r["denominator"]


async def test_every_indicator_follows_the_unit_s_dossiers_across_topics(
    broker: Broker, reader: Reader
) -> None:
    unit = Unit()
    online, direct, withdrawn = unit.dossier(), unit.dossier(), unit.dossier()
    # Online, with a fee paid online, digitised, resolved early with an electronic result, rated
    # at submission (5) and then by QR at the desk (2): rated once, and not satisfied.
    for event in (
        online.received("online"),
        online.digitised(),
        online.paid(online=True),
        online.resolved(6, "early"),
        online.rated("online", 5),
        online.rated("qr", 2),
    ):
        await broker.publish(event)
    # At the desk, no fee, rejected after examination and late, paper result, satisfied.
    for event in (
        direct.received("direct", fee=0),
        direct.resolved(11, "late", outcome="rejected", digitised=False),
        direct.rated("survey", 4, channel="direct"),
    ):
        await broker.publish(event)
    # At the desk with a fee paid in cash, then withdrawn.
    for event in (
        withdrawn.received("direct", day=3),
        withdrawn.paid(online=False),
        withdrawn.withdrawn(),
    ):
        await broker.publish(event)

    body = await reader.counts_become(
        unit,
        {
            "received": 3,
            "received_online": 1,
            "input_digitised": 1,
            "with_fees": 2,
            "fee_paid_online": 1,
            "resolved": 2,
            "resolved_early": 1,
            "resolved_late": 1,
            "rejected": 1,
            "result_digitised": 1,
            "rated": 2,
            "satisfied": 1,
            "withdrawn": 1,
        },
    )
    assert body["received_by_channel"] == {"online": 1, "direct": 2, "postal": 0, "integration": 0}
    assert ratio(body, "on_time_rate") == (1, 2)
    assert ratio(body, "late_rate") == (1, 2)
    assert ratio(body, "online_rate") == (1, 3)
    assert ratio(body, "input_digitisation_rate") == (1, 3)
    assert ratio(body, "result_digitisation_rate") == (1, 2)
    assert ratio(body, "online_payment_rate") == (1, 2)
    assert ratio(body, "rated_share") == (2, 2)
    assert ratio(body, "satisfied_share") == (1, 2)
    assert body["rates"]["late_rate"]["value"] == 0.5
    assert body["targets"]["late_rate"] == {"at_least": None, "below": 0.02, "met": False}
    assert body["targets"]["rated_share"]["met"] is True

    # Every dossier was of one procedure: the same figures under it.
    by_procedure = await reader.indicators(unit, PROCEDURE)
    assert by_procedure["counts"] == body["counts"]
    fact = await reader.fact(online, "rated_at")
    assert fact["satisfied"] is False and fact["timeliness"] == "early"

    # The older route keeps answering from the same counters.
    received = await reader.received(unit)
    assert received["received"] == 3
    assert received["online_rate"]["numerator"] == 1


async def test_resolution_and_digitisation_told_before_the_receipt_are_counted_once_known(
    broker: Broker, reader: Reader
) -> None:
    unit = Unit()
    dossier = unit.dossier()
    await broker.publish(dossier.resolved(8, "on_time"))
    await broker.publish(dossier.digitised())
    # The resolution counts for the unit at once; by procedure only when the receipt names it.
    await reader.counts_become(unit, {"resolved": 1, "resolved_on_time": 1, "result_digitised": 1})
    await reader.fact(dossier, "input_digitised_at")
    # The digitisation event named the procedure, so the resolution is already under it too.
    await reader.counts_become(
        unit, {"resolved": 1, "resolved_on_time": 1, "result_digitised": 1}, PROCEDURE
    )
    # Digitisation waits for the month of receipt.
    assert (await reader.indicators(unit))["counts"]["input_digitised"] == 0

    await broker.publish(dossier.received("online"))
    everything = {
        "received": 1,
        "received_online": 1,
        "input_digitised": 1,
        "with_fees": 1,
        "resolved": 1,
        "resolved_on_time": 1,
        "result_digitised": 1,
    }
    body = await reader.counts_become(unit, everything)
    await reader.counts_become(unit, everything, PROCEDURE)
    assert ratio(body, "on_time_rate") == (1, 1)
    assert ratio(body, "input_digitisation_rate") == (1, 1)


async def test_resolution_alone_counts_under_any_procedure_until_the_receipt_arrives(
    broker: Broker, reader: Reader
) -> None:
    unit = Unit()
    dossier = unit.dossier()
    await broker.publish(dossier.resolved(10, "late"))
    await reader.counts_become(unit, {"resolved": 1, "resolved_late": 1, "result_digitised": 1})
    assert (await reader.indicators(unit, PROCEDURE))["counts"]["resolved"] == 0

    await broker.publish(dossier.received("postal", fee=0))
    body = await reader.counts_become(
        unit, {"received": 1, "resolved": 1, "resolved_late": 1, "result_digitised": 1}, PROCEDURE
    )
    assert body["received_by_channel"]["postal"] == 1
    assert ratio(body, "late_rate") == (1, 1)


async def test_a_redelivered_or_republished_event_counts_once(
    broker: Broker, reader: Reader
) -> None:
    unit = Unit()
    dossier = unit.dossier()
    receipt = await broker.publish(dossier.received("online"))
    resolution = await broker.publish(dossier.resolved(5, "early"))
    payment = await broker.publish(dossier.paid())
    await reader.counts_become(
        unit,
        {
            "received": 1,
            "received_online": 1,
            "with_fees": 1,
            "fee_paid_online": 1,
            "resolved": 1,
            "resolved_early": 1,
            "result_digitised": 1,
        },
    )
    before = await reader.indicators(unit)

    # Redelivery (same ce_id) and re-publication (a new id, the same facts) of each event.
    for env in (receipt, resolution, payment):
        await broker.send(env)
        await broker.publish(env.data)
    # Events of the same dossier on each topic come after them in their partitions: once metrics
    # has applied these, it has applied the copies.
    await broker.publish(dossier.opened())
    await broker.publish(dossier.fee_requested())
    await broker.publish(dossier.rated("online", 5))
    await reader.fact(dossier, "case_opened_at")
    await reader.fact(dossier, "fee_requested_at")
    await reader.fact(dossier, "rated_at")

    after = await reader.indicators(unit)
    assert after["counts"] == before["counts"] | {"rated": 1, "satisfied": 1}
    assert after["rates"]["online_payment_rate"]["value"] == 1.0


@pytest.mark.parametrize(
    "params",
    [
        {"unit_code": "Hà Nội", "period": PERIOD},
        {"unit_code": HANOI, "period": "2026-13"},
        {"unit_code": HANOI},
        {"unit_code": HANOI, "period": PERIOD, "procedure_code": "1.004222\x00"},
    ],
)
async def test_bad_query_gets_a_bilingual_problem(
    http: httpx.AsyncClient, metrics: Stack, tokens: Tokens, params: dict[str, str]
) -> None:
    r = await http.get(
        f"{metrics.url('metrics')}/v1/indicators",
        params=params,
        headers=tokens.province_officer(),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title_vi"]


async def test_indicators_need_a_token(http: httpx.AsyncClient, metrics: Stack) -> None:
    r = await http.get(
        f"{metrics.url('metrics')}/v1/indicators", params={"unit_code": HANOI, "period": PERIOD}
    )
    assert r.status_code == 401
