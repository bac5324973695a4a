"""CloudEvents 1.0 in Kafka binary content mode: ``ce_*`` headers, JSON ``data`` as the value."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from pydantic import ValidationError

from shared.events.base import EVENT_TYPES, Event

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class MalformedEvent(ValueError):
    """A message that is not a valid event of a known type: it can never succeed, so no retry."""


@dataclass(frozen=True, slots=True)
class Envelope:
    id: str
    type: str
    source: str
    time: dt.datetime
    subject: str | None
    topic: str
    key: str
    data: Event


def wrap(event: Event, *, source: str, subject: str | None = None) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source=source,
        time=dt.datetime.now(dt.UTC),
        subject=subject,
        topic=event.topic,
        key=event.partition_key(),
        data=event,
    )


def ce_headers(env: Envelope) -> dict[str, str]:
    headers = {
        "ce_id": env.id,
        "ce_type": env.type,
        "ce_source": env.source,
        "ce_specversion": SPEC_VERSION,
        "ce_time": env.time.isoformat(),
        "content-type": CONTENT_TYPE,
    }
    if env.subject:
        headers["ce_subject"] = env.subject
    return headers


def encode_data(event: Event) -> bytes:
    return event.__pydantic_serializer__.to_json(event)


def decode(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | None, topic: str
) -> Envelope:
    """Parse a Kafka record into an envelope; raises :class:`MalformedEvent`."""
    hdr: dict[str, str] = {}
    for name, raw in headers or ():
        try:
            hdr[name] = raw.decode()
        except (UnicodeDecodeError, AttributeError) as exc:
            raise MalformedEvent(f"header {name} is not UTF-8") from exc
    for required in ("ce_id", "ce_type", "ce_source", "ce_specversion"):
        if not hdr.get(required):
            raise MalformedEvent(f"missing CloudEvents header {required}")
    if hdr["ce_specversion"] != SPEC_VERSION:
        raise MalformedEvent(f"unsupported ce_specversion {hdr['ce_specversion']}")
    model = EVENT_TYPES.get(hdr["ce_type"])
    if model is None:
        raise UnknownEventType(hdr["ce_type"])
    if value is None:
        raise MalformedEvent("empty message value")
    try:
        # Straight from bytes: pydantic's own JSON parser, with no intermediate dict.
        data = model.model_validate_json(value)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid {hdr['ce_type']} data: {exc}") from exc
    try:
        time = dt.datetime.fromisoformat(hdr["ce_time"]) if hdr.get("ce_time") else None
    except ValueError as exc:
        raise MalformedEvent("ce_time is not ISO 8601") from exc
    return Envelope(
        id=hdr["ce_id"],
        type=hdr["ce_type"],
        source=hdr["ce_source"],
        time=time or dt.datetime.now(dt.UTC),
        subject=hdr.get("ce_subject"),
        topic=topic,
        key=key.decode() if key else "",
        data=data,
    )


def event_type(headers: list[tuple[str, bytes]] | None) -> str | None:
    """The ``ce_type`` header of a record, without decoding anything else (None if absent or
    not text): enough to skip a record of a type nobody here handles."""
    for name, raw in headers or ():
        if name == "ce_type":
            try:
                return raw.decode()
            except (UnicodeDecodeError, AttributeError):
                return None
    return None


class UnknownEventType(MalformedEvent):
    """A well-formed event of a type this code does not know (a newer producer)."""
