"""Helpers for tests: tokens for typical users, realistic dossiers, waiting for eventual state."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from services import database
from shared.auth import mint_token
from shared.db.migrations import upgrade

T = TypeVar("T")

# Hà Nội (01) and two of its wards; Nghệ An (40) for "another unit".
HANOI = "01"
HOAN_KIEM = "00070"
BA_DINH = "00004"
NGHE_AN = "40"


class Tokens:
    def __init__(self, private_key: bytes) -> None:
        self._key = private_key

    def bearer(
        self,
        sub: str,
        roles: list[str],
        unit: str | None = None,
        unit_path: str | None = None,
        agency: str | None = None,
    ) -> dict[str, str]:
        token = mint_token(
            self._key, sub=sub, roles=roles, unit=unit, unit_path=unit_path, agency=agency
        )
        return {"Authorization": f"Bearer {token}"}

    def receptionist(
        self, unit: str = HOAN_KIEM, path: str = f"{HANOI}.{HOAN_KIEM}"
    ) -> dict[str, str]:
        # A ward's receptionist works at its one-stop desk; a province's at its public service
        # centre (the agency codes intake seeds).
        agency = f"motcua-{unit}" if "." in path else f"ttphcc-{unit}"
        return self.bearer(f"cb.tiepnhan.{unit}", ["receptionist"], unit, path, agency=agency)

    def province_officer(self, province: str = HANOI) -> dict[str, str]:
        return self.bearer(
            f"cb.tinh.{province}", ["receptionist", "specialist", "supervisor"], province, province
        )

    def ops(self) -> dict[str, str]:
        return self.bearer("ops", ["ops"])


def personal_id() -> str:
    return "001" + "".join(random.choices("0123456789", k=9))


def dossier_body(
    procedure_key: str = "dang-ky-thuong-tru",
    unit_code: str = HOAN_KIEM,
    channel: str = "direct",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "procedure_key": procedure_key,
        "unit_code": unit_code,
        "channel": channel,
        "applicant": {
            "kind": "citizen",
            "id_number": personal_id(),
            "name": "Nguyễn Thị Lan",
            "phone": "0912345678",
            "address": "Số 5 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
        },
        **extra,
    }


# How long a test waits for something the pipeline does eventually (an event relayed, consumed,
# counted). A bound on correctness, not a speed claim: on a two-core machine running the whole
# suite beside four services, a broker and PostgreSQL, seconds of scheduling delay are normal.
# The benchmark (bench/) measures speed; a test only fails when the thing never happens.
PIPELINE_WAIT_S = 60.0


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    timeout: float = PIPELINE_WAIT_S,
    interval: float = 0.1,
) -> T:
    """Poll until ``probe`` returns something truthy; fail with the last value after ``timeout``.

    The default bound is generous on purpose: polling returns as soon as the probe holds, so it
    costs a passing test nothing, while a tight one turns a loaded machine into a red build."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def client_address() -> dict[str, str]:
    """A client address no other test uses (an IPv6 documentation address drawn from a uuid),
    so per-address rate limits of one test never spill into another. uvicorn trusts
    X-Forwarded-For only from the configured proxies (FORWARDED_ALLOW_IPS, 127.0.0.1 in the
    test stack), which is where the tests call from."""
    groups = uuid.uuid4().hex[:24]
    suffix = ":".join(groups[i : i + 4] for i in range(0, 24, 4))
    return {"X-Forwarded-For": f"2001:db8:{suffix}"}


@contextmanager
def own_service_database(server_url: str, package: str, schema: str) -> Iterator[str]:
    """A database of its own holding one service's schema at head, dropped afterwards: for tests
    that apply events straight through a consumer, whose outbox rows must never reach the
    suite's running services."""
    name = f"motcua_{schema}_{uuid.uuid4().hex[:8]}"
    url = database.create_database(server_url, name, fresh=True)
    try:
        upgrade(package, url, schema)
        yield url
    finally:
        database.drop_database(server_url, name)
