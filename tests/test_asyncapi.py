"""Each service's AsyncAPI document says what that service sends and what it receives."""

from __future__ import annotations

from typing import Any

import httpx

from services.stack import Stack


async def _document(http: httpx.AsyncClient, stack: Stack, service: str) -> dict[str, Any]:
    r = await http.get(f"{stack.url(service)}/asyncapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(doc: dict[str, Any], action: str) -> dict[str, list[str]]:
    """Channel address -> message names of every operation with ``action``."""
    out: dict[str, list[str]] = {}
    for op in doc["operations"].values():
        if op["action"] == action:
            topic = op["channel"]["$ref"].rsplit("/", 1)[-1]
            out[topic] = [m["$ref"].rsplit("/", 1)[-1] for m in op["messages"]]
    return out


async def test_intake_sends_dossier_events_and_receives_case_events(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    doc = await _document(http, stack, "intake")
    sends = _operations(doc, "send")
    receives = _operations(doc, "receive")
    assert set(sends) == {"intake.catalogue.v1", "intake.dossiers.v1"}
    assert "DossierReceived" in sends["intake.dossiers.v1"]
    assert "CaseOpened" not in sends["intake.dossiers.v1"]
    assert "workflow.cases.v1" in receives and "workflow.cases.v1" not in sends
    # Only the case events intake's handlers take, each of them on that topic.
    assert receives["workflow.cases.v1"]
    assert "DossierReceived" not in receives["workflow.cases.v1"]


async def test_metrics_publishes_nothing_and_receives_every_topic(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    doc = await _document(http, stack, "metrics")
    assert _operations(doc, "send") == {}
    receives = _operations(doc, "receive")
    assert "DossierReceived" in receives["intake.dossiers.v1"]
    assert "CaseResolved" in receives["workflow.cases.v1"]
    # Metrics has no handler for a step being assigned: its document does not claim one.
    assert "StepAssigned" not in receives["workflow.cases.v1"]


async def test_each_topic_is_sent_by_exactly_one_service(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    senders: dict[str, list[str]] = {}
    for service in ("intake", "workflow", "payment", "metrics"):
        for topic in _operations(await _document(http, stack, service), "send"):
            senders.setdefault(topic, []).append(service)
    assert senders == {
        "intake.catalogue.v1": ["intake"],
        "intake.dossiers.v1": ["intake"],
        "workflow.cases.v1": ["workflow"],
        "payment.payments.v1": ["payment"],
    }
