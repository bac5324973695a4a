"""The four services: package, schema and default port."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    default_port: int

    @property
    def schema(self) -> str:
        return self.name

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("intake", "intake_service", 8001),
    ServiceSpec("workflow", "workflow_service", 8002),
    ServiceSpec("payment", "payment_service", 8003),
    ServiceSpec("metrics", "metrics_service", 8004),
)

BY_NAME = {spec.name: spec for spec in SERVICES}
