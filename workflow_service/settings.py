from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class WorkflowSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKFLOW_", extra="ignore", frozen=True)

    service_name: str = "workflow"

    timers_enabled: bool = True
    timer_poll_interval_s: float = 1.0
    timer_batch_size: int = 500
    calendar_cache_ttl_s: float = 30.0

    # Signed electronic results (kết quả điện tử có ký số).
    pki_dir: Path = Field(
        Path(".data/pki"),
        description=(
            "Development CA (WORKFLOW_PKI_DIR): a root CA and one key and certificate per agency, "
            "created here on first use. Used when signing_keys_dir is unset; nothing it issues "
            "may be trusted outside a development stack."
        ),
    )
    signing_keys_dir: Path | None = Field(
        None,
        description=(
            "Production signing keys (WORKFLOW_SIGNING_KEYS_DIR): for each agency code, "
            "<agency_code>.key.pem (PKCS#8, unencrypted, readable only by the service), "
            "<agency_code>.cert.pem (issued by a public CA: VNPT-CA, Viettel-CA, the government "
            "CA) and optionally <agency_code>.chain.pem (intermediates, embedded in each "
            "signature). An agency without files gets no electronic result."
        ),
    )
    signing_trust_roots_file: Path | None = Field(
        None,
        description=(
            "PEM bundle of the root certificates a signed result must chain to "
            "(WORKFLOW_SIGNING_TRUST_ROOTS_FILE); without it, the development root under pki_dir."
        ),
    )
    result_verify_max_bytes: int = Field(
        10 * 1024 * 1024, description="largest PDF accepted by POST /v1/results/verify"
    )
