"""Writing many rows of a table in one statement of fixed text.

The rows travel as one array per column and are unpacked by ``unnest``, so the statement reads
the same for one row or two hundred: it is compiled once and prepared once per connection,
instead of a statement of a new length (parsed and planned again) for every size of batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, String, Table, TextClause, TextualSelect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

_DIALECT = postgresql.dialect()


@dataclass(frozen=True)
class RowsInsert:
    """``INSERT INTO table (…) SELECT * FROM unnest(…)`` for every column a row must name (all
    but the identity), optionally skipping rows that conflict on a unique column."""

    columns: tuple[str, ...]
    statement: TextClause | TextualSelect

    @classmethod
    def of(
        cls,
        table: Table,
        *,
        skip_conflicts_on: Column[Any] | None = None,
        returning: Column[Any] | None = None,
    ) -> RowsInsert:
        quote = _DIALECT.identifier_preparer.quote
        columns = [c for c in table.columns if c.identity is None]
        arrays = ", ".join(f"CAST(:{_param(c.name)} AS {_element_type(c)}[])" for c in columns)
        sql = (
            f"INSERT INTO {_DIALECT.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(c.name) for c in columns)}) SELECT * FROM unnest({arrays})"
        )
        if skip_conflicts_on is not None:
            sql += f" ON CONFLICT ({quote(skip_conflicts_on.name)}) DO NOTHING"
        if returning is None:
            return cls(tuple(c.name for c in columns), text(sql))
        sql += f" RETURNING {quote(returning.name)}"
        return cls(tuple(c.name for c in columns), text(sql).columns(returning))

    def params(self, rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
        """The rows as one list per column (each row names every column)."""
        return {_param(name): [row[name] for row in rows] for name in self.columns}

    async def execute(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await session.execute(self.statement, self.params(rows))

    async def returned(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Insert ``rows``; the ``returning`` column of those written."""
        if not rows:
            return []
        return list(await session.scalars(self.statement, self.params(rows)))


def _element_type(column: Column[Any]) -> str:
    # Strings as text: a cast to varchar(n) would cut an overlong value silently, where
    # writing it into the column refuses it, as an insert of the row itself would.
    if isinstance(column.type, String):
        return "TEXT"
    return column.type.compile(dialect=_DIALECT)


def _param(column: str) -> str:
    return f"rows_{column}"
