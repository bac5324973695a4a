"""The reference cache on its own, over the suite's database: what it serves before and after an
invalidation, after its TTL, and for a key it has never seen."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest

from intake_service.reference.cache import ReferenceCache
from shared.db.engine import asyncpg_dsn


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def _add_procedure(pool: asyncpg.Pool, key: str, days: float) -> None:
    data = {"key": key, "processing": {"working_days": days}, "fees": []}
    await pool.execute(
        "INSERT INTO intake.procedures"
        " (key, code, name, field, level, online, processing_working_days, version, data)"
        " VALUES ($1, NULL, 'Thủ tục thử nghiệm', 'Thử nghiệm', 'commune', 'full', $2, 1, $3)",
        key,
        days,
        orjson.dumps(data).decode(),
    )


async def _retire(pool: asyncpg.Pool, key: str) -> None:
    await pool.execute("UPDATE intake.procedures SET retired_at = now() WHERE key = $1", key)


def _cache(pool: asyncpg.Pool, clock: Clock, ttl: float = 30.0) -> ReferenceCache:
    async def get_pool() -> asyncpg.Pool:
        return pool

    return ReferenceCache(get_pool, ttl=ttl, monotonic=clock)


async def test_a_key_the_snapshot_lacks_is_read_on_its_own_and_never_cached_as_absent(
    pool: asyncpg.Pool,
) -> None:
    cache = _cache(pool, Clock())
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    assert await cache.procedure(key) is None
    await _add_procedure(pool, key, 5)
    found = await cache.procedure(key)
    assert found is not None and found.rules.processing.working_days == 5 and not found.retired


async def test_a_change_is_served_after_invalidation_and_not_before_the_ttl(
    pool: asyncpg.Pool,
) -> None:
    clock = Clock()
    cache = _cache(pool, clock, ttl=30)
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    await _add_procedure(pool, key, 5)
    assert (await cache.procedure(key)).retired is False  # type: ignore[union-attr]
    await _retire(pool, key)
    # Cached: a change no one announced is not seen before the TTL...
    clock.now = 29
    assert (await cache.procedure(key)).retired is False  # type: ignore[union-attr]
    cache.invalidate()
    # ...and is seen at once after an invalidation.
    assert (await cache.procedure(key)).retired is True  # type: ignore[union-attr]


async def test_an_expired_snapshot_is_served_while_one_reload_runs(pool: asyncpg.Pool) -> None:
    clock = Clock()
    cache = _cache(pool, clock, ttl=30)
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    await _add_procedure(pool, key, 5)
    assert (await cache.procedure(key)).retired is False  # type: ignore[union-attr]
    await _retire(pool, key)
    clock.now = 31
    # The desk is answered from the old snapshot at once; the reload runs behind it.
    assert (await cache.procedure(key)).retired is False  # type: ignore[union-attr]
    for _ in range(100):
        await asyncio.sleep(0.05)
        if (await cache.procedure(key)).retired:  # type: ignore[union-attr]
            break
    assert (await cache.procedure(key)).retired is True  # type: ignore[union-attr]


async def test_a_load_begun_before_an_invalidation_is_not_kept(pool: asyncpg.Pool) -> None:
    clock = Clock()
    cache = _cache(pool, clock, ttl=30)
    key = f"thu-nghiem-{uuid.uuid4().hex[:8]}"
    await _add_procedure(pool, key, 5)
    loading = asyncio.create_task(cache.procedure(key))
    await asyncio.sleep(0)  # the load has begun
    cache.invalidate()
    await _retire(pool, key)
    await loading
    # Whatever the early load read, the next answer is read after the invalidation.
    assert (await cache.procedure(key)).retired is True  # type: ignore[union-attr]
