"""One commit point per request: the route class every router uses.

A service function only flushes; the route commits the request's sessions after the endpoint
returned (and FastAPI shaped its answer) but before a byte of the response is sent, so a client
never holds a 201 for something that did not commit. A ``yield`` dependency's cleanup would be too
late: since FastAPI 0.118 it runs after the response is sent. An endpoint that raised commits
nothing: closing the session (the dependency's cleanup) rolls it back.

Every session the request's dependencies opened through :func:`shared.runtime.db_session` is
tracked on the request, wherever in the dependency tree it was asked for. A streaming response
reads while it is sent, after this commit point: it must not write.

Usage::

    router = APIRouter(route_class=CommitRoute)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

_SESSIONS = "motcua_sessions"


def track(request: Request, session: AsyncSession) -> None:
    """Name ``session`` as one the request's route commits."""
    sessions: list[AsyncSession] = request.scope.setdefault(_SESSIONS, [])
    sessions.append(session)


class CommitRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def committing(request: Request) -> Response:
            response = await handler(request)
            for session in request.scope.get(_SESSIONS, ()):
                if session.in_transaction():
                    await session.commit()
            return response

        return committing
