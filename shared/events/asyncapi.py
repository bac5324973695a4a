"""AsyncAPI 3 document generated from the event models, so the contract is documented once."""

from __future__ import annotations

from typing import Any

from shared.events.base import EVENT_TYPES
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


def asyncapi_document(title: str, version: str, bootstrap_servers: str) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": model.summary or (model.__doc__ or "").strip().splitlines()[0],
            "contentType": CONTENT_TYPE,
            "headers": _CE_HEADERS,
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "dossier id"}}},
        }
        channel = channels.setdefault(model.topic, {"address": model.topic, "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for topic, channel in channels.items():
        operations[f"publish_{topic}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [
                {"$ref": ref["$ref"].replace("components/messages", f"channels/{topic}/messages")}
                for ref in channel["messages"].values()
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version},
        "servers": {"kafka": {"host": bootstrap_servers, "protocol": "kafka"}},
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
