"""the pause a dossier waits on (supplement during processing, financial obligation)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null while nothing is asked of the applicant; no backfill: no dossier was paused before.
    op.add_column(
        "dossiers",
        sa.Column("pause", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("dossiers", "pause", schema="intake")
