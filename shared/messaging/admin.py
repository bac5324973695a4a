"""Topic administration: create what is missing, and tell a fresh broker from a known one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events.topics import COMPACTED_TOPICS
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


async def ensure_topics(settings: ServiceSettings, names: Iterable[str]) -> set[str]:
    """Create missing topics; returns the names that had to be created."""
    partitions = settings.topic_partitions
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10_000
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            new = [
                NewTopic(
                    name,
                    num_partitions=1 if ".epoch." in name else partitions,
                    replication_factor=settings.topic_replication_factor,
                    topic_configs=(
                        {"cleanup.policy": "compact"}
                        if any(name.endswith(t) for t in COMPACTED_TOPICS)
                        else {}
                    ),
                )
                for name in missing
            ]
            # Another instance may win the race to create them.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
            log.info("topics created", topics=missing)
        return set(missing)
    finally:
        await admin.close()


def epoch_topic(schema: str) -> str:
    """A marker topic per service. The embedded broker keeps nothing across a restart, so a
    missing marker means every event the outbox still holds may never have reached consumers."""
    return f"motcua.epoch.{schema}"
