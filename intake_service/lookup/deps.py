"""The lookup's request dependencies, shared by every route that takes its credential (the
lookup itself, consent through the lookup, the QR rating)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from intake_service.domain.rate_limit import LookupLimits
from intake_service.lookup.service import LookupGuard
from shared.runtime import runtime_of


def lookup_guard(request: Request) -> LookupGuard:
    guard: LookupGuard | None = getattr(request.app.state, "lookup_guard", None)
    if guard is None:
        settings = runtime_of(request).settings
        guard = LookupGuard(
            LookupLimits(
                getattr(settings, "rate_limit_storage_uri", "memory://"),
                per_minute=getattr(settings, "lookup_rate_per_minute", 20),
                failures_per_code_per_hour=getattr(
                    settings, "lookup_failures_per_code_per_hour", 10
                ),
                failures_per_client_per_hour=getattr(
                    settings, "lookup_failures_per_client_per_hour", 50
                ),
                # One store may serve several stacks (a test run beside a dev run).
                namespace=f"{getattr(settings, 'topic_namespace', '')}lookup",
            )
        )
        request.app.state.lookup_guard = guard
    return guard


def client_address(request: Request) -> str:
    """The caller's address as uvicorn resolved it. uvicorn replaces the peer's address with the
    one in ``X-Forwarded-For`` only when the peer is a proxy listed in ``--forwarded-allow-ips``
    (``FORWARDED_ALLOW_IPS``; see services/processes.py and deploy/), so a client talking to the
    service directly cannot choose its own address, and behind the ingress every citizen still
    has their own."""
    return request.client.host if request.client else "unknown"


GuardDep = Annotated[LookupGuard, Depends(lookup_guard)]
ClientAddress = Annotated[str, Depends(client_address)]
