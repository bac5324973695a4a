"""What the batch tests of every consumer share: an engine on a test database, a consumer runner
with a service's handlers over it, the (event, handler) pairs the runner applies, and a count of
the statements a run costs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import make_engine, make_sessionmaker
from shared.events.envelope import Envelope
from shared.messaging.consumer import ConsumerRunner, Registered
from shared.messaging.tables import MessagingTables
from shared.settings import ServiceSettings


@asynccontextmanager
async def engine_on(database_url: str, name: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(ServiceSettings(database_url=database_url, service_name=name))
    try:
        yield engine
    finally:
        await engine.dispose()


def runner_on(
    database_url: str,
    engine: AsyncEngine,
    name: str,
    tables: MessagingTables,
    handlers: Mapping[str, Registered],
) -> ConsumerRunner:
    """A runner applying events straight through ``apply_many``; it polls no broker."""
    settings = ServiceSettings(database_url=database_url, service_name=name)
    return ConsumerRunner(settings, make_sessionmaker(engine), tables, name, handlers, [])


def items(
    runner: ConsumerRunner, envelopes: Sequence[Envelope]
) -> list[tuple[Envelope, Registered]]:
    out = []
    for env in envelopes:
        handler = runner.handler_for(env.type)
        assert handler is not None
        out.append((env, handler))
    return out


class StatementCount:
    """The statements sent on ``engine`` while in the ``with`` block."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        self._engine = engine

    def __enter__(self) -> StatementCount:
        event.listen(self._engine.sync_engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)
