"""Writing many rows of a table in one statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with one multi-row ``INSERT … VALUES``. Asking for the keys back is what
    makes SQLAlchemy render the rows into one statement ("insertmanyvalues", up to a thousand
    rows a statement); without it the driver would execute the statement once per row."""
    if rows:
        await session.execute(insert(table).returning(*table.primary_key.columns), rows)
