"""Units and procedures in process memory, for the submission path.

A desk submission must not pay a round trip to learn that unit 00070 exists and what
``dang-ky-thuong-tru`` charges: both are read from a snapshot of every unit and every procedure,
loaded in one go and kept for ``ttl`` seconds. The snapshot is dropped

* at once in the process that commits a change of a unit or a procedure (the catalogue and unit
  services call :meth:`ReferenceCache.invalidate` after the commit, as the calendar's do);
* in every other replica when the catalogue topic says something changed
  (:mod:`intake_service.reference.listener`): procedures and the calendar publish there, units
  do not;
* after ``ttl``, the safety net when the listener is down (an expired snapshot keeps serving
  while one reload runs).

None of these is what keeps a stale replica from accepting a dossier: the submission's own
statement writes only while the unit is active and the procedure at the cached version
(``dossiers.repository.SUBMISSION_SQL``); when it finds either changed it writes nothing, and
the submission drops the snapshot and is decided again.

A key the snapshot lacks is looked up on its own (a unit or procedure created on another
replica is usable at once); an unknown key is not remembered, so nothing absent is ever cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain.procedure_rules import ProcedureRules

log = structlog.get_logger(__name__)

_UNITS = "SELECT code, path, retired_at FROM intake.units"
_PROCEDURES = (
    "SELECT key, code, name, version, processing_working_days, data, retired_at "
    "FROM intake.procedures"
)


@dataclass(frozen=True, slots=True)
class UnitRef:
    code: str
    path: str
    retired: bool


@dataclass(frozen=True, slots=True)
class ProcedureRef:
    """What a submission reads of a procedure, its typed rules parsed once per load."""

    key: str
    code: str | None
    name: str
    version: int
    processing_working_days: float
    retired: bool
    rules: ProcedureRules

    @property
    def public_code(self) -> str:
        """The national code events carry, or the catalogue key for a procedure without one."""
        return self.code or self.key


def _unit(row: asyncpg.Record) -> UnitRef:
    return UnitRef(code=row["code"], path=row["path"], retired=row["retired_at"] is not None)


def _procedure(row: asyncpg.Record) -> ProcedureRef:
    data: Any = row["data"]
    if isinstance(data, str | bytes):
        data = orjson.loads(data)
    return ProcedureRef(
        key=row["key"],
        code=row["code"],
        name=row["name"],
        version=row["version"],
        processing_working_days=row["processing_working_days"],
        retired=row["retired_at"] is not None,
        rules=ProcedureRules.of(data),
    )


@dataclass
class _Snapshot:
    expires: float
    units: dict[str, UnitRef]
    procedures: dict[str, ProcedureRef]


class ReferenceCache:
    """Every unit and procedure, reloaded after ``ttl``; see the module's doc.

    An expired snapshot is still answered while one background task reloads it, so a desk never
    waits on the reload; only the first use (and the first after :meth:`invalidate`) waits. A
    load that began before an invalidation is not stored: it may have read the old rows.
    """

    def __init__(
        self,
        pool: Callable[[], Any],
        ttl: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # ``pool`` is awaited for the asyncpg pool to read from (made on first use).
        self._pool = pool
        self._ttl = ttl
        self._monotonic = monotonic
        self._snapshot: _Snapshot | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    def invalidate(self) -> None:
        """Forget the snapshot: the next submission reads the committed rows."""
        self._generation += 1
        self._snapshot = None

    async def _load(self) -> _Snapshot:
        generation = self._generation
        pool = await self._pool()
        async with pool.acquire() as conn:
            units = await conn.fetch(_UNITS)
            procedures = await conn.fetch(_PROCEDURES)
        snapshot = _Snapshot(
            expires=self._monotonic() + self._ttl,
            units={r["code"]: _unit(r) for r in units},
            procedures={r["key"]: _procedure(r) for r in procedures},
        )
        if generation == self._generation:
            self._snapshot = snapshot
        return snapshot

    async def _refresh(self) -> None:
        try:
            await self._load()
        except Exception as exc:
            log.warning("reference data reload failed; serving the last snapshot", error=repr(exc))
        finally:
            self._refreshing = None

    async def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None:
            if snapshot.expires <= self._monotonic() and self._refreshing is None:
                self._refreshing = asyncio.create_task(self._refresh(), name="reference-reload")
            return snapshot
        async with self._lock:
            if self._snapshot is not None:
                return self._snapshot
            return await self._load()

    async def unit(self, code: str) -> UnitRef | None:
        """The unit ``code``, retired or not; None when there is none."""
        snapshot = await self._current()
        found = snapshot.units.get(code)
        if found is None:
            generation = self._generation
            pool = await self._pool()
            row = await pool.fetchrow(_UNITS + " WHERE code = $1", code)
            if row is None:
                return None
            found = _unit(row)
            if generation == self._generation:
                snapshot.units[code] = found
        return found

    async def procedure(self, key: str) -> ProcedureRef | None:
        """The procedure ``key``, retired or not; None when there is none."""
        snapshot = await self._current()
        found = snapshot.procedures.get(key)
        if found is None:
            generation = self._generation
            pool = await self._pool()
            row = await pool.fetchrow(_PROCEDURES + " WHERE key = $1", key)
            if row is None:
                return None
            found = _procedure(row)
            if generation == self._generation:
                snapshot.procedures[key] = found
        return found


def invalidate_on_commit(session: AsyncSession, cache: ReferenceCache) -> None:
    """Drop the process's snapshot once the session's change is committed: dropped before, a
    reload could read the old rows in between and keep them for a whole ``ttl``."""
    event.listen(session.sync_session, "after_commit", lambda _s: cache.invalidate(), once=True)
