"""authorised representative (người được ủy quyền) on a dossier

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both nullable: most dossiers are filed by the applicant themself, and the rows already
    # there had no representative recorded.
    op.add_column(
        "dossiers",
        sa.Column("representative", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="intake",
    )
    op.add_column(
        "dossiers",
        sa.Column("representative_id_number", sa.String(length=20), nullable=True),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_dossiers_representative_id_number"),
        "dossiers",
        ["representative_id_number"],
        unique=False,
        schema="intake",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_intake_dossiers_representative_id_number"),
        table_name="dossiers",
        schema="intake",
    )
    op.drop_column("dossiers", "representative_id_number", schema="intake")
    op.drop_column("dossiers", "representative", schema="intake")
