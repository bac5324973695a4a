"""Delivering a message the way gateways and banks do: a first attempt, then re-sends.

Each attempt goes into a journal, so a test can read exactly what was sent and answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from services.sandbox.clock import now_vn

log = logging.getLogger("sandbox.delivery")

# What a send to a receiver that is going away can raise: httpx's own errors, and, when the
# receiver is killed while the connection is being opened, an OSError or the AttributeError
# httpcore's anyio backend raises reading the peer of a socket already closed. A real gateway
# records any of these as an undelivered notification and sends again.
SEND_FAILURES: tuple[type[BaseException], ...] = (httpx.HTTPError, OSError, AttributeError)


@dataclass
class Attempt:
    """One HTTP call to the receiver and what came back."""

    key: str  # what the message is about: a txn_ref, a bank transaction id
    copy: int  # which of the identical copies sent at once (duplicates)
    attempt: int  # 1 for the first send, then 2, 3… for re-sends
    sent_at: str
    request: dict[str, Any]
    status_code: int | None = None
    answer: Any = None
    error: str | None = None
    # The receiver took it: nothing more is sent for this copy.
    final: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


Send = Callable[[int, int], Awaitable[Attempt]]


class Background:
    """Tasks that outlive the request that started them (re-sends, IPNs after a redirect)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        # Held here until done: the loop keeps only weak references to tasks.
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def deliver(
    send: Send,
    *,
    copies: int,
    retries: int,
    interval_s: float,
    delay_ms: int,
    background: Background,
) -> list[Attempt]:
    """Send ``copies`` identical messages at once and return their first attempts; copies the
    receiver did not take are re-sent in the background, up to ``retries`` more times each."""
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    firsts = list(await asyncio.gather(*(send(copy, 1) for copy in range(1, copies + 1))))
    for first in firsts:
        if not first.final and retries > 0:
            background.spawn(_resend(send, first.copy, retries, interval_s))
    return firsts


async def _resend(send: Send, copy: int, retries: int, interval_s: float) -> None:
    for attempt in range(2, retries + 2):
        await asyncio.sleep(interval_s)
        if (await send(copy, attempt)).final:
            return


def stamp() -> str:
    return now_vn().isoformat(timespec="milliseconds")
