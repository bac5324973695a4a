"""the pause a dossier waits on (supplement during processing, financial obligation)

Revision ID: 0006_wp5_dossier_pause
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_wp5_dossier_pause"
down_revision = "0005"
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
