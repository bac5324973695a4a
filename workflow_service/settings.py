from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class WorkflowSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKFLOW_", extra="ignore", frozen=True)

    service_name: str = "workflow"
    db_schema: str = "workflow"
    http_port: int = 8002

    timers_enabled: bool = True
    timer_poll_interval_s: float = 1.0
    timer_batch_size: int = 500
    calendar_cache_ttl_s: float = 30.0
