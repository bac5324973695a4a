from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from intake_service.domain.documents import DEFAULT_REFERENCE_HOSTS
from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"

    # Content-addressed store of uploaded components (``<blob_dir>/ab/cdef…``); any shared
    # filesystem works when several intake replicas run.
    blob_dir: Path = Path(".data/blobs")
    blob_max_bytes: int = Field(20 * 1024 * 1024, description="largest accepted upload")
    # Hosts (and their subdomains) a document reference may point to, over https only.
    document_reference_hosts: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REFERENCE_HOSTS),
        description="hosts a document reference may point to",
    )
    # The public lookup page the QR code on every slip opens (the dossier code is appended): a
    # form that asks for the verifier, so the verifier is never in the URL. A province points it
    # at its portal's own lookup page.
    public_lookup_url: str = "http://127.0.0.1:8001/v1/lookup-page"
    # Public lookup: attempts per client address per minute, wrong second factors per (client
    # address, dossier code) per hour, and per client address per hour over all codes. A lock
    # binds the guessing address only, never the code for its owner.
    lookup_rate_per_minute: int = 20
    lookup_failures_per_code_per_hour: int = 10
    lookup_failures_per_client_per_hour: int = 50
    # Where those windows live (a `limits` storage URI): memory:// per process, or
    # redis://host:6379 to share them across replicas (needs the `redis` package).
    rate_limit_storage_uri: str = "memory://"
    # Units and procedures cached per process for submissions, and the working calendar: each
    # replica drops them when the catalogue topic announces a change; these bound how long a
    # replica that missed the announcement (its listener down) keeps the old rows.
    reference_cache_ttl_s: float = 30.0
    calendar_cache_ttl_s: float = 10.0
    # Connections of the submission path's own pool (beside the ORM engine's).
    hot_pool_size: int = 10
