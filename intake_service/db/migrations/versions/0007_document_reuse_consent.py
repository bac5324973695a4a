"""document reuse consent

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Dossiers received before consent was asked for have none: their applicant's earlier
    # documents stay closed to officers until the applicant says otherwise.
    op.add_column(
        "dossiers",
        sa.Column("reuse_consent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="intake",
    )
    op.add_column(
        "dossiers",
        sa.Column("reuse_consent_at", sa.DateTime(timezone=True), nullable=True),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("dossiers", "reuse_consent_at", schema="intake")
    op.drop_column("dossiers", "reuse_consent", schema="intake")
