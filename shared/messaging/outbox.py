"""Writing events into the outbox, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.base import Event
from shared.events.envelope import Envelope, ce_headers, encode_data, wrap
from shared.messaging.tables import MessagingTables


class Outbox:
    """Adds events to ``<schema>.outbox``; the caller's commit makes them durable with the state."""

    def __init__(self, tables: MessagingTables, source: str, namespace: str = "") -> None:
        self._table = tables.outbox
        self.source = source
        self._namespace = namespace

    def topic_of(self, env: Envelope) -> str:
        """The topic an envelope is written for, in this deployment's namespace."""
        return self._namespace + env.topic

    def row(self, event: Event, subject: str | None = None) -> dict[str, Any]:
        """The outbox row of ``event``: for a caller that writes it in a statement of its own
        (intake's submission writes the dossier, its log and its events in one)."""
        env = wrap(event, source=self.source, subject=subject)
        return {
            "event_id": env.id,
            "event_type": env.type,
            "topic": self.topic_of(env),
            "key": env.key,
            "headers": ce_headers(env),
            "payload": encode_data(env.data),
        }

    async def add(
        self, session: AsyncSession, *events: Event, subject: str | None = None
    ) -> list[Envelope]:
        return await self.add_all(session, [(event, subject) for event in events])

    async def add_all(
        self, session: AsyncSession, events: Iterable[tuple[Event, str | None]]
    ) -> list[Envelope]:
        """Several events, each with its own subject, in one statement (a timer round's
        hundreds of overdue events cost one round trip, not hundreds)."""
        envelopes = [wrap(event, source=self.source, subject=subject) for event, subject in events]
        if envelopes:
            await session.execute(
                insert(self._table),
                [
                    {
                        "event_id": env.id,
                        "event_type": env.type,
                        "topic": self.topic_of(env),
                        "key": env.key,
                        "headers": ce_headers(env),
                        "payload": encode_data(env.data),
                    }
                    for env in envelopes
                ],
            )
        return envelopes
