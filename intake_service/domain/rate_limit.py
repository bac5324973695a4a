"""Limits of the public lookup (tra cứu hồ sơ), which needs no login, kept by the ``limits``
library in a store named by a URI: ``memory://`` keeps the windows in this process (development,
one replica), ``redis://host:6379`` shares them across every intake replica (install the
``redis`` extra).

Three limits protect it, none of which lets a stranger lock the owner out of their dossier:

* attempts per client per minute, against scraping;
* wrong verifiers per (client, dossier code) per hour, against guessing the four digits of one
  dossier: the code's owner, at another address, is never affected;
* wrong verifiers per client per hour across all codes, against one address walking codes.

Codes are not sequential (see :mod:`intake_service.domain.dossier_codes`), so targeting one
dossier needs its slip in the first place; a guesser spread over many addresses gets ten tries
per address per hour at ten thousand possibilities each.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def async_storage_uri(uri: str) -> str:
    """``memory://`` and ``redis://…`` as configured, in the async form ``limits`` wants."""
    return uri if uri.startswith("async+") else f"async+{uri}"


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused and for how many whole seconds."""

    reason: str  # "rate" (too many attempts) or "locked" (too many wrong verifiers)
    retry_after: int


class LookupLimits:
    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        per_minute: int = 20,
        failures_per_code_per_hour: int = 10,
        failures_per_client_per_hour: int = 50,
        namespace: str = "lookup",
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(async_storage_uri(storage_uri)))
        self._attempts: RateLimitItem = RateLimitItemPerMinute(per_minute, namespace=namespace)
        self._code_failures: RateLimitItem = RateLimitItemPerHour(
            failures_per_code_per_hour, namespace=namespace
        )
        self._client_failures: RateLimitItem = RateLimitItemPerHour(
            failures_per_client_per_hour, namespace=namespace
        )

    async def _wait(self, item: RateLimitItem, *keys: str) -> int:
        stats = await self._limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def admit(self, client: str, code: str) -> Refusal | None:
        """Count one attempt of ``client`` on ``code``, or say why it may not be made now.

        The failure budgets are only read here; :meth:`failed` spends them."""
        for item, keys in (
            (self._code_failures, ("failures", client, code)),
            (self._client_failures, ("failures", client)),
        ):
            if not await self._limiter.test(item, *keys):
                return Refusal("locked", await self._wait(item, *keys))
        if not await self._limiter.hit(self._attempts, "attempts", client):
            return Refusal("rate", await self._wait(self._attempts, "attempts", client))
        return None

    async def failed(self, client: str, code: str) -> None:
        """A wrong verifier (or an unknown code: the two must look alike) from ``client``."""
        await self._limiter.hit(self._code_failures, "failures", client, code)
        await self._limiter.hit(self._client_failures, "failures", client)
