"""The dead-letter list pages newest first with the plain id of the last letter as its cursor."""

from __future__ import annotations

from sqlalchemy import MetaData, select
from sqlalchemy.dialects import postgresql

from shared.messaging.dead_letters.repository import order
from shared.messaging.tables import messaging_tables


def test_dead_letters_page_newest_first_after_the_cursor_id() -> None:
    table = messaging_tables(MetaData(schema="x")).dead_letters
    query = order(table).apply(select(table.c.id), "5", 2)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    assert "x.dead_letters.id < 5" in sql.replace("(", "").replace(")", "")
    assert "ORDER BY x.dead_letters.id DESC" in sql
    assert "LIMIT 3" in sql


def test_next_cursor_is_the_last_id_of_a_full_page() -> None:
    keyset = order(messaging_tables(MetaData(schema="x")).dead_letters)
    rows = [{"id": 9}, {"id": 7}, {"id": 4}]
    items, cursor = keyset.page(rows, 2, lambda r: (r["id"],))
    assert items == rows[:2] and cursor == "7"
    assert keyset.page(rows, 3, lambda r: (r["id"],)) == (rows, None)
