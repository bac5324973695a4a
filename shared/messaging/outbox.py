"""Writing events into the outbox, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.base import Event
from shared.events.envelope import Envelope, ce_headers, encode_data, wrap
from shared.messaging.tables import MessagingTables


class Outbox:
    """Adds events to ``<schema>.outbox``; the caller's commit makes them durable with the state."""

    def __init__(self, tables: MessagingTables, source: str, namespace: str = "") -> None:
        self._table = tables.outbox
        # One statement for any number of events, rows in the given order (so ids, and the
        # relay's order, follow it): one execution and one firing of the notify trigger, where
        # an executemany ran the insert, and the trigger, once per event.
        self._insert_many = text(
            f"INSERT INTO {tables.schema}.outbox "
            "(event_id, event_type, topic, key, headers, payload) "
            "SELECT e, t, tp, k, CAST(h AS jsonb), p FROM unnest("
            "CAST(:event_ids AS text[]), CAST(:event_types AS text[]), CAST(:topics AS text[]), "
            "CAST(:keys AS text[]), CAST(:headers AS text[]), CAST(:payloads AS bytea[])"
            ") WITH ORDINALITY AS v(e, t, tp, k, h, p, n) ORDER BY n"
        )
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
                self._insert_many,
                {
                    "event_ids": [env.id for env in envelopes],
                    "event_types": [env.type for env in envelopes],
                    "topics": [self.topic_of(env) for env in envelopes],
                    "keys": [env.key for env in envelopes],
                    "headers": [orjson.dumps(ce_headers(env)).decode() for env in envelopes],
                    "payloads": [encode_data(env.data) for env in envelopes],
                },
            )
        return envelopes
