"""Workflow's agencies table over HTTP and the broker: an agency the catalogue announces
(``AgencyChanged`` on the catalogue topic) can be transferred to, and once it is renamed, the
control sheet and the signed result of a case resolved afterwards carry the new name; the
newest publication of an agency wins whatever order the entries arrive in."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.stack import Infrastructure, Stack
from shared.events import AgencyChanged, topics
from shared.events.envelope import ce_headers, encode_data, wrap
from shared.vocabulary import AgencyKind
from tests.support import HANOI, Tokens, eventually
from tests.test_workflow_cases import NEWBORN, Cases, current, walk
from workflow_service.agencies import service as agencies

SOCIAL_INSURANCE = f"bhxh-{HANOI}"


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


async def announce(infra: Infrastructure, namespace: str, event: AgencyChanged) -> None:
    """Publish as intake's catalogue does: keyed by the agency, a fresh CloudEvents id."""
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers)
    await producer.start()
    try:
        env = wrap(event, source="/motcua/intake", subject=event.agency_code)
        await producer.send_and_wait(
            namespace + topics.CATALOGUE,
            key=env.key.encode(),
            value=encode_data(event),
            headers=[(k, v.encode()) for k, v in ce_headers(env).items()],
        )
    finally:
        await producer.stop()


def branch_office(code: str, name: str) -> AgencyChanged:
    return AgencyChanged(
        agency_code=code,
        name=name,
        kind=AgencyKind.social_insurance,
        unit_code=HANOI,
        unit_path=HANOI,
    )


async def test_a_renamed_agency_signs_and_shows_under_its_new_name(
    cases: Cases,
    tokens: Tokens,
    infra: Infrastructure,
    stack: Stack,
    namespace: str,
    http: httpx.AsyncClient,
) -> None:
    workflow = stack.url("workflow")
    suffix = uuid.uuid4().hex[:6]
    branch = f"bhxh-01-cn{suffix}"
    old_name, new_name = f"Chi nhánh BHXH {suffix}", f"Bảo hiểm xã hội khu vực {suffix}"
    await announce(infra, namespace, branch_office(branch, old_name))

    async def known() -> bool:
        r = await http.put(
            f"{workflow}/v1/agencies/{branch}/members/cb.{suffix}", headers=tokens.ops()
        )
        return r.status_code in (200, 201)

    await eventually(known)

    case = await walk(cases, await cases.open(NEWBORN), "health_insurance_card")
    r = await cases.act(
        case,
        "transfer",
        cases.who.approver(SOCIAL_INSURANCE),
        {"agency_code": branch, "reason": "Chuyển chi nhánh phụ trách"},
    )
    assert r.status_code == 200, r.text
    case = {**r.json(), "etag": r.headers["ETag"]}
    assert current(case)["agency_code"] == branch
    case = await cases.step(case, "claim")

    await announce(infra, namespace, branch_office(branch, new_name))

    async def sheet_names() -> list[dict[str, Any]] | None:
        r = await http.get(f"{cases.base}/{case['id']}/control-sheet", headers=cases.who.desk)
        assert r.status_code == 200, r.text
        rows = [row for row in r.json() if row["agency_code"] == branch]
        return rows if rows and all(row["agency_name"] == new_name for row in rows) else None

    await eventually(sheet_names)

    case = await cases.step(case, "resolve", {"result": "Đã cấp thẻ BHYT cho trẻ dưới 6 tuổi"})
    assert case["status"] == "resolved"
    pdf = await http.get(f"{cases.base}/{case['id']}/result", headers=cases.who.desk)
    assert pdf.status_code == 200, pdf.text
    verdict = await http.post(
        f"{workflow}/v1/results/verify",
        content=pdf.content,
        headers={"Content-Type": "application/pdf"},
    )
    assert verdict.status_code == 200
    assert (verdict.json()["signer_agency"], verdict.json()["signer_name"]) == (branch, new_name)
    assert verdict.json()["valid"] and verdict.json()["known_result"]


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session whose writes are rolled back at the end."""
    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            try:
                yield session
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def test_the_newest_publication_of_an_agency_wins_whatever_order_it_arrives_in(
    session: AsyncSession,
) -> None:
    code = f"bhxh-01-cn{uuid.uuid4().hex[:6]}"
    earlier = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    later = earlier + dt.timedelta(hours=1)
    await agencies.agency_changed(session, branch_office(code, "Tên mới"), later)
    # An older entry arriving late, then a redelivery of the newest: neither changes anything.
    await agencies.agency_changed(session, branch_office(code, "Tên cũ"), earlier)
    await agencies.agency_changed(session, branch_office(code, "Tên mới"), later)
    assert await agencies.names(session, {code}) == {code: "Tên mới"}
    retired = branch_office(code, "Tên mới").model_copy(update={"retired": True})
    await agencies.agency_changed(session, retired, later + dt.timedelta(hours=1))
    assert not await agencies.is_active(session, code)
    # A retired agency is never where a step goes: the seeded one of the unit stays.
    assert await agencies.agency_for(session, "social_insurance", HANOI) == SOCIAL_INSURANCE


async def test_an_agency_created_and_renamed_in_intake_signs_under_its_new_name_in_workflow(
    cases: Cases, tokens: Tokens, stack: Stack, http: httpx.AsyncClient
) -> None:
    """The whole contract, through the services: intake's catalogue creates and renames the
    agency and publishes each change; workflow hears it, transfers to it and signs as it."""
    intake, workflow = stack.url("intake"), stack.url("workflow")
    suffix = uuid.uuid4().hex[:6]
    branch = f"bhxh-01-kv{suffix}"
    old_name, new_name = f"BHXH khu vực {suffix}", f"Bảo hiểm xã hội cơ sở {suffix}"
    created = await http.post(
        f"{intake}/v1/agencies",
        json={"code": branch, "name": old_name, "kind": "social_insurance", "unit_code": HANOI},
        headers=tokens.ops(),
    )
    assert created.status_code == 201, created.text

    # Before workflow has heard of it, no transfer may name it; once heard, it is a target.
    async def known() -> bool:
        r = await http.put(
            f"{workflow}/v1/agencies/{branch}/members/cb.{suffix}", headers=tokens.ops()
        )
        assert r.status_code in (200, 201, 422), r.text
        return r.status_code in (200, 201)

    await eventually(known)
    case = await walk(cases, await cases.open(NEWBORN), "health_insurance_card")
    r = await cases.act(
        case,
        "transfer",
        cases.who.approver(SOCIAL_INSURANCE),
        {"agency_code": branch, "reason": "Chuyển cơ quan BHXH cơ sở phụ trách"},
    )
    assert r.status_code == 200, r.text
    case = await cases.step({**r.json(), "etag": r.headers["ETag"]}, "claim")

    renamed = await http.patch(
        f"{intake}/v1/agencies/{branch}", json={"name": new_name}, headers=tokens.ops()
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == new_name

    async def heard() -> bool:
        r = await http.get(f"{cases.base}/{case['id']}/control-sheet", headers=cases.who.desk)
        assert r.status_code == 200, r.text
        return any(
            row["agency_code"] == branch and row["agency_name"] == new_name for row in r.json()
        )

    await eventually(heard)
    case = await cases.step(case, "resolve", {"result": "Đã cấp thẻ BHYT cho trẻ dưới 6 tuổi"})
    pdf = await http.get(f"{cases.base}/{case['id']}/result", headers=cases.who.desk)
    assert pdf.status_code == 200, pdf.text
    verdict = await http.post(
        f"{workflow}/v1/results/verify",
        content=pdf.content,
        headers={"Content-Type": "application/pdf"},
    )
    assert (verdict.json()["signer_agency"], verdict.json()["signer_name"]) == (branch, new_name)
