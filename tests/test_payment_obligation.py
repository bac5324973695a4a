"""A financial obligation (the land transfer's registration fee and income tax) is raised when
workflow pauses the case for it, collected by the province's tax authority, and paying it
through the gateway resumes the case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.stack import Stack
from tests.payment_support import gateway_pays, open_request, receptionist, start_vnpay
from tests.support import Tokens, eventually
from tests.test_workflow_cases import LAND, Cases, walk


@pytest.fixture
def cases(http: httpx.AsyncClient, stack: Stack, tokens: Tokens) -> Cases:
    return Cases(http, stack, tokens)


async def test_paying_the_obligation_through_the_gateway_resumes_the_paused_case(
    cases: Cases, http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> None:
    case = await walk(cases, await cases.open(LAND), "financial_obligation")
    case = await cases.step(case, "claim")
    case = await cases.step(
        case,
        "request-financial-obligation",
        {"reason": "Thông báo nộp lệ phí trước bạ và thuế thu nhập cá nhân", "amount_vnd": 1250000},
    )
    assert case["status"] == "paused"
    desk = receptionist(tokens)
    request = await open_request(
        http, stack, desk, case["dossier_id"], purpose="financial_obligation"
    )
    assert (request["amount_vnd"], request["agency_code"]) == (1250000, "thue-01")
    assert request["lines"][0]["kind"] == "financial_obligation"

    payment = await start_vnpay(http, stack, desk, request["id"])
    paid = await gateway_pays(http, stack, payment["reference"])
    assert paid["ipn_deliveries"][0]["answer"]["RspCode"] == "00"

    async def resumed() -> dict[str, Any] | None:
        read = await cases.read(case["id"])
        return read if read["status"] == "open" else None

    reopened = await eventually(resumed, interval=0.2)
    assert reopened["pause_reason"] is None
    # The fee request of the same dossier is a separate request, still open.
    fee = await open_request(http, stack, desk, case["dossier_id"], purpose="fee")
    assert fee["status"] == "open"
