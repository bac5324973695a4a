"""Agency authority over HTTP: transfers only to agencies that exist (and no signing key for
any other), memberships kept by ops granting and revoking access to an agency's steps, and
work queues listing only the officer's agencies."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.stack import Infrastructure, Stack
from shared.events import AgencyChanged
from shared.vocabulary import AgencyKind
from tests.support import HANOI, HOAN_KIEM, Tokens, dossier_body, eventually
from tests.test_workflow_agencies import announce
from tests.test_workflow_cases import LAND, NEWBORN, Cases, current, walk
from tests.test_workflow_results import workflow_in_process

LAND_OFFICE = f"vpdkdd-{HANOI}"


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


def agency_key(stack: Stack, code: str) -> bool:
    """Whether the development CA holds a key for ``code``."""
    agencies = stack.keys_dir.resolve().parent / "pki" / "agencies"
    return (agencies / f"{code}.key.pem").exists() or (agencies / f"{code}.cert.pem").exists()


async def transfer(
    cases: Cases, case: dict[str, Any], headers: dict[str, str], code: str
) -> httpx.Response:
    return await cases.act(
        case, "transfer", headers, {"agency_code": code, "reason": "Chuyển cơ quan phụ trách"}
    )


async def add_agency(cases: Cases, tokens: Tokens, code: str) -> None:
    r = await cases.http.post(
        f"{cases.intake}/v1/agencies",
        headers=tokens.ops(),
        json={
            "code": code,
            "name": "Chi nhánh Văn phòng Đăng ký đất đai Hoàn Kiếm",
            "kind": "land_registration_office",
            "unit_code": HANOI,
        },
    )
    assert r.status_code == 201, r.text


async def test_transfer_to_an_unknown_agency_is_refused_and_no_key_is_minted_for_it(
    cases: Cases, stack: Stack
) -> None:
    case = await walk(cases, await cases.open(LAND), "survey_and_check")
    invented = f"cuc-csgt-bo-cong-an-{uuid.uuid4().hex[:6]}"
    # The step's specialist may transfer only where the route says (it lists nowhere here).
    r = await transfer(cases, case, cases.who.land, invented)
    assert r.status_code == 403 and r.json()["detail_vi"]
    # The approver of the step's agency may go elsewhere, but only to an agency that exists.
    r = await transfer(cases, case, cases.who.approver(LAND_OFFICE), invented)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in r.json()["errors"]} == {"body.agency_code"}
    # An approver of another agency gets nowhere near intake.
    r = await transfer(cases, case, cases.who.approver(f"thue-{HANOI}"), invented)
    assert r.status_code == 403
    # Its own agency is no transfer either.
    r = await transfer(cases, case, cases.who.approver(LAND_OFFICE), LAND_OFFICE)
    assert r.status_code == 422
    unchanged = await cases.read(case["id"])
    assert current(unchanged)["agency_code"] == LAND_OFFICE
    assert unchanged["version"] == case["version"]
    assert not agency_key(stack, invented)


async def catalogue_announces(
    infra: Infrastructure, namespace: str, code: str, *, retired: bool = False
) -> None:
    """The catalogue's ``AgencyChanged`` for an agency ``add_agency`` created."""
    await announce(
        infra,
        namespace,
        AgencyChanged(
            agency_code=code,
            name="Chi nhánh Văn phòng Đăng ký đất đai Hoàn Kiếm",
            kind=AgencyKind.land_registration_office,
            unit_code=HANOI,
            unit_path=HANOI,
            retired=retired,
        ),
    )


async def workflow_accepts_members(cases: Cases, tokens: Tokens, workflow: str, code: str) -> bool:
    r = await cases.http.put(
        f"{workflow}/v1/agencies/{code}/members/cb.{uuid.uuid4().hex[:6]}", headers=tokens.ops()
    )
    return r.status_code in (200, 201)


async def test_an_approver_transfers_ad_hoc_to_a_known_agency_not_to_a_retired_one(
    cases: Cases, tokens: Tokens, stack: Stack, infra: Infrastructure, namespace: str
) -> None:
    workflow = stack.url("workflow")
    branch = f"vpdkdd-01-cn{uuid.uuid4().hex[:6]}"
    retired = f"vpdkdd-01-cu{uuid.uuid4().hex[:6]}"
    await add_agency(cases, tokens, branch)
    await add_agency(cases, tokens, retired)
    r = await cases.http.post(f"{cases.intake}/v1/agencies/{retired}/retire", headers=tokens.ops())
    assert r.status_code == 200
    # Workflow learns agencies from the catalogue topic: wait until it knows both, then until
    # it has seen the retirement.
    for code in (branch, retired):
        await catalogue_announces(infra, namespace, code)
        await eventually(lambda c=code: workflow_accepts_members(cases, tokens, workflow, c))
    await catalogue_announces(infra, namespace, retired, retired=True)

    async def retirement_seen() -> bool:
        return not await workflow_accepts_members(cases, tokens, workflow, retired)

    await eventually(retirement_seen)

    # Intake reads agencies one by one, retired ones included; the ward's specialist office,
    # which decides procedures without a route, is seeded with the ward.
    r = await cases.http.get(f"{cases.intake}/v1/agencies/{retired}")
    assert r.status_code == 200 and r.json()["retired_at"] is not None
    r = await cases.http.get(f"{cases.intake}/v1/agencies/chuyenmon-00070")
    assert (r.status_code, r.json()["kind"]) == (200, "specialist_office")
    assert (await cases.http.get(f"{cases.intake}/v1/agencies/khong-co-ma-nay")).status_code == 404

    case = await walk(cases, await cases.open(LAND), "survey_and_check")
    case = await cases.step(case, "claim")
    approver = cases.who.approver(LAND_OFFICE)
    r = await transfer(cases, case, approver, retired)
    assert r.status_code == 422
    r = await transfer(cases, case, approver, branch)
    assert r.status_code == 200, r.text
    moved = {**r.json(), "etag": r.headers["ETag"]}
    assert (current(moved)["agency_code"], current(moved)["status"]) == (branch, "waiting")
    # Now the branch's officers work the step, and the land office's no longer do.
    assert (await cases.act(moved, "claim", cases.who.land)).status_code == 403
    r = await cases.act(moved, "claim", cases.who.officer(branch))
    assert r.status_code == 200, r.text
    assert not agency_key(stack, retired)


async def test_ops_memberships_grant_and_revoke_an_agencys_steps(
    cases: Cases, tokens: Tokens, stack: Stack, http: httpx.AsyncClient
) -> None:
    workflow = stack.url("workflow")
    officer_sub = f"cb.moi.{uuid.uuid4().hex[:6]}"
    # A specialist whose token names no agency: the role, but no agency's steps.
    newcomer = tokens.bearer(officer_sub, ["specialist"], HANOI, HANOI)
    case = await walk(cases, await cases.open(LAND), "survey_and_check")
    step_id = current(case)["id"]
    assert (await cases.act(case, "claim", newcomer)).status_code == 403
    queue = await http.get(f"{workflow}/v1/steps", headers=newcomer, params={"limit": 200})
    assert queue.status_code == 200 and queue.json()["items"] == []

    member_url = f"{workflow}/v1/agencies/{LAND_OFFICE}/members/{officer_sub}"
    assert (await http.put(member_url, headers=cases.who.land)).status_code == 403
    r = await http.put(member_url, headers=tokens.ops())
    assert r.status_code == 201, r.text
    assert r.json()["agency_code"] == LAND_OFFICE and r.json()["added_by"] == "ops"
    again = await http.put(member_url, headers=tokens.ops())
    assert again.status_code == 200 and again.json()["added_at"] == r.json()["added_at"]
    listed = await http.get(f"{workflow}/v1/agencies/{LAND_OFFICE}/members", headers=tokens.ops())
    assert officer_sub in {m["officer_sub"] for m in listed.json()["items"]}
    unknown = await http.put(
        f"{workflow}/v1/agencies/khong-co-{uuid.uuid4().hex[:6]}/members/{officer_sub}",
        headers=tokens.ops(),
    )
    assert unknown.status_code == 422

    queue = await http.get(
        f"{workflow}/v1/steps",
        headers=newcomer,
        params={"agency_code": LAND_OFFICE, "limit": 200},
    )
    assert step_id in {s["id"] for s in queue.json()["items"]}
    r = await cases.act(case, "claim", newcomer)
    assert r.status_code == 200, r.text
    claimed = {**r.json(), "etag": r.headers["ETag"]}

    assert (await http.delete(member_url, headers=tokens.ops())).status_code == 204
    assert (await http.delete(member_url, headers=tokens.ops())).status_code == 204
    assert (await cases.act(claimed, "complete", newcomer)).status_code == 403
    listed = await http.get(f"{workflow}/v1/agencies/{LAND_OFFICE}/members", headers=tokens.ops())
    assert officer_sub not in {m["officer_sub"] for m in listed.json()["items"]}


async def test_queues_list_only_the_steps_of_the_officers_agencies(
    cases: Cases, stack: Stack, http: httpx.AsyncClient
) -> None:
    case = await walk(cases, await cases.open(NEWBORN), "permanent_residence")
    step_id = current(case)["id"]
    url = f"{stack.url('workflow')}/v1/steps"

    async def listed(headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        r = await http.get(url, headers=headers, params={"limit": 200, **params})
        assert r.status_code == 200
        return r.json()["items"]

    police = f"congan-{HANOI}"
    assert step_id in {s["id"] for s in await listed(cases.who.police, agency_code=police)}
    assert {s["agency_code"] for s in await listed(cases.who.police)} == {police}
    # Asking for another agency's queue gives nothing, not that agency's steps.
    assert await listed(cases.who.justice, agency_code=police) == []
    assert step_id not in {s["id"] for s in await listed(cases.who.social_insurance)}


async def test_a_transfer_to_an_agency_workflow_does_not_know_is_422_without_asking_intake(
    cases: Cases,
    tokens: Tokens,
    infra: Infrastructure,
    database_url: str,
    stack: Stack,
    namespace: str,
) -> None:
    case = await walk(cases, await cases.open(LAND), "survey_and_check")
    # Workflow answers from its own agencies table: nothing here can reach intake.
    async with workflow_in_process(infra, database_url, stack, namespace) as client:
        r = await client.post(
            f"/v1/cases/{case['id']}/transfer",
            json={"agency_code": "vpdkdd-01-cn-hoankiem", "reason": "Chuyển chi nhánh"},
            headers={**cases.who.approver(LAND_OFFICE), "If-Match": case["etag"]},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["type"].endswith("/unknown-agency") and problem["title_vi"]
        assert {e["field"] for e in problem["errors"]} == {"body.agency_code"}
        r = await client.put(
            "/v1/agencies/vpdkdd-01-cn-hoankiem/members/cb.x", headers=tokens.ops()
        )
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
    assert (await cases.read(case["id"]))["version"] == case["version"]


async def test_a_step_goes_where_its_route_lists_without_asking_an_approver(
    cases: Cases, tokens: Tokens, stack: Stack, http: httpx.AsyncClient
) -> None:
    key = f"thu-nghiem-chuyen-{uuid.uuid4().hex[:8]}"
    route = [
        {"step": "receive", "agency_kind": "one_stop_desk", "share": 0.2},
        {
            "step": "examine",
            "agency_kind": "specialist_office",
            "share": 0.8,
            "transfer_to": ["public_service_centre"],
        },
    ]
    body = {
        "key": key,
        "code": "1.009998",
        "name": "Thủ tục thử nghiệm chuyển Trung tâm",
        "field": "Thử nghiệm",
        "level": "commune",
        "online": "full",
        "processing": {"working_days": 5},
        "fees": [],
        "components": ["Tờ khai"],
        "result": "Giấy xác nhận",
        "route": route,
    }
    r = await http.post(f"{cases.intake}/v1/procedures", json=body, headers=tokens.ops())
    assert r.status_code == 201, r.text
    # A route naming an agency kind nothing is seeded for is refused when published.
    bad = {
        **body,
        "key": f"{key}-x",
        "route": [{**route[0], "agency_kind": "cuc-csgt", "share": 1}],
    }
    r = await http.post(f"{cases.intake}/v1/procedures", json=bad, headers=tokens.ops())
    assert r.status_code == 422

    async def published() -> bool:
        r = await http.get(f"{stack.url('workflow')}/v1/routes/{key}")
        return r.status_code == 200

    await eventually(published)
    case = await cases.open(key, dossier_body(key))
    case = await cases.step(await cases.step(case, "claim"), "complete")
    assert current(case)["agency_code"] == f"chuyenmon-{HOAN_KIEM}"
    specialist = cases.who.specialist
    # Not where the route does not go, known agency or not, without an approver.
    r = await transfer(cases, case, specialist, f"tuphap-{HOAN_KIEM}")
    assert r.status_code == 403
    r = await transfer(cases, case, specialist, f"ttphcc-{HANOI}")
    assert r.status_code == 200, r.text
    case = {**r.json(), "etag": r.headers["ETag"]}
    assert current(case)["agency_code"] == f"ttphcc-{HANOI}"
    # The centre now decides and signs.
    case = await cases.step(case, "claim")
    case = await cases.step(case, "resolve", {"result": "Đã cấp giấy xác nhận"})
    assert case["status"] == "resolved"
    pdf = await http.get(f"{cases.base}/{case['id']}/result", headers=cases.who.desk)
    verdict = await http.post(
        f"{stack.url('workflow')}/v1/results/verify",
        content=pdf.content,
        headers={"Content-Type": "application/pdf"},
    )
    assert verdict.json()["signer_agency"] == f"ttphcc-{HANOI}"
