"""Sliding-window limits for the public lookup (tra cứu hồ sơ), which needs no login.

Two limits protect it: attempts per client address per minute (against scraping), and wrong
verifiers per dossier code per hour (against guessing the four digits of one dossier: ten
thousand possibilities, so ten wrong guesses an hour make a guess practically hopeless).

The windows live in this process's memory. That is a deliberate trade: a lookup must not cost a
write to the database, and a shared store (Redis, a PostgreSQL table) would be one more moving
part for a limit that only has to be coarse. The consequence is that every limit is **per
replica**: with N intake replicas behind a load balancer a client gets up to N times the budget,
and a restart forgets the windows. Size the settings with that in mind, or move the store out of
the process when the deployment grows.

Time comes from an injected clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

Clock = Callable[[], float]


class SlidingWindowLimiter:
    """At most ``limit`` events per key in any ``window_s`` seconds.

    Memory is bounded: each key keeps at most ``limit`` timestamps, and beyond ``max_keys`` keys
    the least recently touched ones are forgotten first (an attacker spraying addresses can
    evict entries, but never grow the process without bound).
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Clock = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be at least 1 and the window positive")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def _window(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = now - self.window_s
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until ``key`` may act again, or None when it may act now."""
        now = self._clock()
        events = self._window(key, now)
        if events is None or len(events) < self.limit:
            return None
        # The oldest event leaving the window frees one place.
        return max(1, math.ceil(events[0] + self.window_s - now))

    def record(self, key: str) -> None:
        """Count one event for ``key``."""
        now = self._clock()
        events = self._window(key, now)
        if events is None:
            events = deque(maxlen=self.limit)
            self._events[key] = events
        events.append(now)
        self._events.move_to_end(key)
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)

    def hit(self, key: str) -> int | None:
        """Count an attempt when allowed; otherwise count nothing and say how long to wait."""
        wait = self.retry_after(key)
        if wait is None:
            self.record(key)
        return wait

    def __len__(self) -> int:
        return len(self._events)
