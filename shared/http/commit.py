"""One commit point per request: the route class every router uses.

A service function only flushes; the route commits the request's session after the endpoint
returned and before FastAPI serialises the answer, so a client never holds a 201 for something
that did not commit (a ``yield`` dependency's cleanup runs after the response is sent). An
endpoint that raised is not committed: closing the session rolls it back.

Usage::

    router = APIRouter(route_class=CommitRoute)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession


class CommitRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(endpoint):
            endpoint = _committing(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _committing(
    endpoint: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(endpoint)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        answer = await endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, AsyncSession) and value.in_transaction():
                await value.commit()
        return answer

    return wrapped
