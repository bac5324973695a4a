"""payment view

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The server default fills the rows already there (no payment seen yet) and the rows a
    # Core insert writes without naming the column.
    op.add_column(
        "dossiers",
        sa.Column(
            "payments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("dossiers", "payments", schema="intake")
