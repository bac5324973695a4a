"""a supplement request's items as JSONB on its action row, backfilled from the old notes

Revision ID: 0009
Revises: 0008
"""

import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# How requests were written into the note before the list had a column of its own: a heading,
# one "n. component — reason" line per item, then "Ghi chú: " and the officer's note. Read here
# once, to fill the column for those rows; nothing else reads a list out of a note.
_HEADING = "Thành phần cần bổ sung, hoàn thiện:"
_NOTE_PREFIX = "Ghi chú: "
_ITEM_LINE = re.compile(r"^(\d+)\. (.*?) — (.*)$")


def supplement_of_note(text: str | None) -> dict[str, object] | None:
    """The structured request an old note holds, or None when the note holds no list."""
    if not text:
        return None
    lines = text.split("\n")
    if lines[0] != _HEADING:
        return None
    items: list[dict[str, str]] = []
    rest = lines[1:]
    while rest and (match := _ITEM_LINE.match(rest[0])):
        items.append({"component": match.group(2), "reason": match.group(3)})
        rest = rest[1:]
    note = "\n".join(rest).removeprefix(_NOTE_PREFIX).strip() or None
    return {"items": items, "note": note}


def upgrade() -> None:
    op.add_column(
        "dossier_actions",
        sa.Column("supplement", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="intake",
    )
    actions = sa.table(
        "dossier_actions",
        sa.column("id", sa.BigInteger),
        sa.column("action", sa.String),
        sa.column("note", sa.Text),
        sa.column("supplement", postgresql.JSONB),
        schema="intake",
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(actions.c.id, actions.c.note).where(
            actions.c.action == "request_supplement", actions.c.supplement.is_(None)
        )
    ).all()
    for row in rows:
        supplement = supplement_of_note(row.note)
        if supplement is None:
            # A request logged with a free-text note only: that text is the one thing asked.
            supplement = {"items": [], "note": row.note}
        bind.execute(sa.update(actions).where(actions.c.id == row.id).values(supplement=supplement))


def downgrade() -> None:
    op.drop_column("dossier_actions", "supplement", schema="intake")
