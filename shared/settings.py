"""Settings common to every service.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix`` (``INTAKE_`` …).
A prefixed variable wins; the unprefixed one (``DATABASE_URL``) is the fallback shared by all
services, so one environment can configure the whole stack.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/motcua"
DEFAULT_KAFKA = "127.0.0.1:9092"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore", frozen=True)

    service_name: str = "motcua"

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy async URL (asyncpg)")
    database_pool_size: int = 10
    kafka_bootstrap_servers: str = DEFAULT_KAFKA
    topic_partitions: int = 3
    topic_replication_factor: int = 1
    # Prefixes every topic and consumer group, so several stacks (a test run beside a dev run)
    # can share one Kafka cluster without reading each other's events.
    topic_namespace: str = ""

    # Auth: one of a PEM public key (inline or file) or a JWKS URL.
    jwt_public_key: str | None = None
    jwt_public_key_file: Path | None = None
    jwt_jwks_url: str | None = None
    jwt_algorithms: list[str] = ["RS256", "ES256"]
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    # Key of the applicant pseudonym (HMAC of the ID number) that lets a service recognise an
    # applicant's dossiers without holding the number; the same in every service.
    applicant_ref_key: SecretStr = SecretStr("")

    cors_origins: list[str] = []
    # Largest JSON request body accepted, in bytes (413 beyond); uploads have their own limits.
    max_json_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    log_json: bool = True

    relay_poll_interval_s: float = 1.0
    relay_batch_size: int = 500
    # After a wake-up, how long the relay lets further commits land before it reads a batch.
    relay_linger_ms: float = 30.0
    # How long what the relay sent may stay unmarked in the outbox (a crash re-sends it).
    relay_mark_interval_s: float = 0.5
    relay_epoch_check_interval_s: float = 2.0
    outbox_retention_days: int = 7

    consumer_max_attempts: int = 4
    consumer_backoff_initial_s: float = 0.2
    consumer_backoff_max_s: float = 5.0
    consumer_batch_size: int = 200
    # After a poll shorter than a batch, how long the consumer lets events accumulate before
    # the next: under load each transaction then carries many events (0: poll at once).
    consumer_linger_ms: float = 50.0
    # How often a busy consumer tells the broker how far it got (an idle one at once); what it
    # applied since is read again after a restart, and skipped by the inbox.
    consumer_commit_interval_s: float = 1.0
    # The embedded broker holds a JoinGroup for about half the session timeout, so a short one
    # makes restarts and rebalances quick; production may raise it.
    consumer_session_timeout_ms: int = 6000
    consumer_heartbeat_interval_ms: int = 1000
    consumers_enabled: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        unprefixed = EnvSettingsSource(settings_cls, env_prefix="")
        return init_settings, env_settings, unprefixed, dotenv_settings, file_secret_settings
