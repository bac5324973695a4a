"""Every replica hears the catalogue topic, so a change committed by another replica drops this
one's cached reference data and calendars within a poll.

The listener is no consumer of the service's group: it reads every partition of the catalogue
topic from its end, commits nothing, and only invalidates. Any event there (a procedure, an
agency, the calendar) drops both caches; which entry changed does not matter, a reload costs
two queries. Down, the caches' TTL bounds how stale a replica can be.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

log = structlog.get_logger(__name__)

# How long one poll waits for a message; a change is seen at most this long after it reached
# the broker (plus the outbox relay's own delay).
POLL_MS = 200
RETRY_S = 1.0
# A broker that stays down is retried less and less often, so the log does not fill with it.
RETRY_MAX_S = 30.0


async def listen(
    bootstrap_servers: str, topic: str, invalidations: Iterable[Callable[[], None]]
) -> None:
    """Run until cancelled; reconnects after any broker error."""
    drops = list(invalidations)
    backoff = RETRY_S
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        try:
            await consumer.start()
            partitions: set[int] | None = None
            while not partitions:
                await consumer.topics()  # refreshes the cluster's metadata
                partitions = consumer.partitions_for_topic(topic)
                if not partitions:
                    await asyncio.sleep(RETRY_S)
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            # What changed before the listener caught up is unknown: start from fresh rows.
            for drop in drops:
                drop()
            backoff = RETRY_S
            while True:
                batch = await consumer.getmany(timeout_ms=POLL_MS)
                if any(batch.values()):
                    for drop in drops:
                        drop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("catalogue listener failed; retrying", error=repr(exc), after_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RETRY_MAX_S)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
