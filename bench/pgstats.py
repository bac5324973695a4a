"""PostgreSQL's own counters over a benchmark window: transactions committed in the bench
database (pg_stat_database.xact_commit) and rows inserted or updated per schema
(pg_stat_user_tables n_tup_ins + n_tup_upd), so the statement and commit cost of a dossier
shows beside its CPU.

A backend hands its counters to the statistics system at most once a second while busy and,
once idle, only after PGSTAT_IDLE_INTERVAL (10 s): a window's last counts appear up to that
long after it. So the end of a window is read ``SETTLE`` seconds after it ended, and the next
window's start no earlier than that either (what the last one left pending would fall into it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import orjson

from shared.db.engine import asyncpg_dsn

SETTLE = 11.0

_SQL = """
SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
       coalesce((SELECT jsonb_object_agg(schemaname, n) FROM (
           SELECT schemaname, sum(n_tup_ins + n_tup_upd) AS n
           FROM pg_stat_user_tables GROUP BY schemaname) s), '{}'::jsonb)::text AS rows
"""


@dataclass(frozen=True)
class Counts:
    commits: int
    rows: Mapping[str, int] = field(default_factory=dict)  # schema → rows inserted + updated

    def minus(self, before: Counts) -> Counts:
        return Counts(
            self.commits - before.commits,
            {s: n - before.rows.get(s, 0) for s, n in self.rows.items()},
        )


class PgStats:
    """Reads the counters, waiting first until ``SETTLE`` seconds have passed since the end
    of the last window (``ended``)."""

    def __init__(self, database_url: str) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._ended = float("-inf")

    def ended(self) -> None:
        self._ended = time.monotonic()

    def read(self) -> Counts:
        wait = self._ended + SETTLE - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return asyncio.run(self._read())

    async def _read(self) -> Counts:
        conn = await asyncpg.connect(self._dsn)
        try:
            row = await conn.fetchrow(_SQL)
        finally:
            await conn.close()
        assert row is not None
        rows = {s: int(n) for s, n in orjson.loads(row["rows"]).items()}
        return Counts(int(row["commits"] or 0), rows)
