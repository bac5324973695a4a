"""The event contract's base: one frozen pydantic model per CloudEvents type."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

# type name -> model; filled by Event subclasses as they are defined.
EVENT_TYPES: dict[str, type[Event]] = {}


class Event(BaseModel):
    """Base of every event. Subclasses set ``event_type`` (versioned) and ``topic``.

    Unknown fields are ignored, so a consumer keeps working when a producer adds an optional field.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    topic: ClassVar[str]
    summary: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type:
            if event_type in EVENT_TYPES:
                raise TypeError(f"event type {event_type} defined twice")
            EVENT_TYPES[event_type] = cls

    def partition_key(self) -> str:
        """Kafka message key: all events of one dossier share it, so they keep their order.
        Events that name no dossier (catalogue, calendar) override it."""
        return str(vars(self)["dossier_id"])
