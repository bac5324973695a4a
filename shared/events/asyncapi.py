"""AsyncAPI 3 document generated from the event models, so the contract is documented once.

Each service's document says what that service sends (the topics its outbox writes, with the
event types whose ``topic`` is that topic) and what it receives (the topics its consumer
subscribes to, with the event types its handlers accept)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from shared.events.base import EVENT_TYPES, Event
from shared.events.envelope import CONTENT_TYPE

_CE_HEADERS = {
    "type": "object",
    "required": ["ce_id", "ce_type", "ce_source", "ce_specversion"],
    "properties": {
        "ce_id": {"type": "string", "description": "unique event id; consumers deduplicate on it"},
        "ce_type": {"type": "string"},
        "ce_source": {"type": "string"},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string"},
    },
}


def events_of(topic: str, accepted: Collection[str] | None = None) -> list[type[Event]]:
    """The event models on ``topic`` (only those whose type is in ``accepted``, if given),
    in the order of their type names."""
    return [
        model
        for event_type, model in sorted(EVENT_TYPES.items())
        if model.topic == topic and (accepted is None or event_type in accepted)
    ]


def asyncapi_document(
    title: str,
    version: str,
    bootstrap_servers: str,
    *,
    publishes: Iterable[str] = (),
    consumes: Iterable[str] = (),
    consumed_types: Collection[str] | None = None,
) -> dict[str, Any]:
    """``publishes``: the topics the service sends on, each with every event type of the topic.
    ``consumes``: the topics it receives from, each with the types in ``consumed_types`` (the
    types its handlers accept), or every type of the topic when that is not known."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}

    def operation(action: str, topic: str, models: list[type[Event]]) -> None:
        channel = channels.setdefault(topic, {"address": topic, "messages": {}})
        for model in models:
            _describe(model, messages, schemas)
            channel["messages"][model.__name__] = {
                "$ref": f"#/components/messages/{model.__name__}"
            }
        operations[f"{'publish' if action == 'send' else 'consume'}_{topic}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{m.__name__}"} for m in models],
        }

    for topic in dict.fromkeys(publishes):
        operation("send", topic, events_of(topic))
    for topic in dict.fromkeys(consumes):
        operation("receive", topic, events_of(topic, consumed_types))
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version},
        "servers": {"kafka": {"host": bootstrap_servers, "protocol": "kafka"}},
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _describe(model: type[Event], messages: dict[str, Any], schemas: dict[str, Any]) -> None:
    name = model.__name__
    if name in messages:
        return
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[name] = schema
    messages[name] = {
        "name": model.event_type,
        "title": name,
        "summary": model.summary or (model.__doc__ or "").strip().splitlines()[0],
        "contentType": CONTENT_TYPE,
        "headers": _CE_HEADERS,
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "bindings": {"kafka": {"key": {"type": "string", "description": "dossier id"}}},
    }
