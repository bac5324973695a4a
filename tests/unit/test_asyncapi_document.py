"""The AsyncAPI document lists only the channels and event types a service names."""

from __future__ import annotations

from shared.events import CaseOpened, DossierReceived, topics
from shared.events.asyncapi import asyncapi_document


def test_a_sent_channel_carries_only_the_event_types_of_its_topic() -> None:
    doc = asyncapi_document("t", "1", "kafka:9092", publishes=[topics.PAYMENTS])
    assert set(doc["channels"]) == {topics.PAYMENTS}
    (op,) = doc["operations"].values()
    assert op["action"] == "send"
    names = set(doc["channels"][topics.PAYMENTS]["messages"])
    assert "PaymentSucceeded" in names and "DossierReceived" not in names
    assert set(doc["components"]["messages"]) == names


def test_a_received_channel_carries_the_types_the_handlers_accept() -> None:
    doc = asyncapi_document(
        "t",
        "1",
        "kafka:9092",
        consumes=[topics.DOSSIERS],
        consumed_types={DossierReceived.event_type, CaseOpened.event_type},
    )
    assert {op["action"] for op in doc["operations"].values()} == {"receive"}
    # CaseOpened is accepted but travels on another topic; only DossierReceived is here.
    assert set(doc["channels"][topics.DOSSIERS]["messages"]) == {"DossierReceived"}
    assert set(doc["components"]["messages"]) == {"DossierReceived"}


def test_a_received_channel_without_known_handlers_carries_every_type_of_its_topic() -> None:
    doc = asyncapi_document("t", "1", "kafka:9092", consumes=[topics.CASES])
    names = set(doc["channels"][topics.CASES]["messages"])
    assert {"CaseOpened", "CaseResolved", "StepAssigned"} <= names


def test_nothing_named_means_an_empty_document() -> None:
    doc = asyncapi_document("t", "1", "kafka:9092")
    assert doc["channels"] == {} and doc["operations"] == {}
