"""agencies as the catalogue publishes them; procedures timed in working hours

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=16), nullable=False),
        sa.Column("unit_path", sa.Text(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_agencies")),
        schema="workflow",
    )
    op.create_index(
        "ix_agencies_unit_kind", "agencies", ["unit_code", "kind"], unique=False, schema="workflow"
    )

    op.create_table(
        "procedure_hours",
        sa.Column("procedure_key", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("working_hours", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("procedure_key", name=op.f("pk_procedure_hours")),
        schema="workflow",
    )


def downgrade() -> None:
    op.drop_table("procedure_hours", schema="workflow")
    op.drop_index("ix_agencies_unit_kind", table_name="agencies", schema="workflow")
    op.drop_table("agencies", schema="workflow")
