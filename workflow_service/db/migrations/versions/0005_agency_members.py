"""agency members and the applicant's pseudonym on cases

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_members",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("officer_sub", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("agency_code", "officer_sub", name=op.f("pk_agency_members")),
        schema="workflow",
    )
    op.create_index(
        op.f("ix_workflow_agency_members_officer_sub"),
        "agency_members",
        ["officer_sub"],
        unique=False,
        schema="workflow",
    )
    op.add_column(
        "cases", sa.Column("applicant_ref", sa.String(length=64), nullable=True), schema="workflow"
    )
    op.create_index(
        op.f("ix_workflow_cases_applicant_ref"),
        "cases",
        ["applicant_ref"],
        unique=False,
        schema="workflow",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_workflow_cases_applicant_ref"), table_name="cases", schema="workflow")
    op.drop_column("cases", "applicant_ref", schema="workflow")
    op.drop_index(
        op.f("ix_workflow_agency_members_officer_sub"),
        table_name="agency_members",
        schema="workflow",
    )
    op.drop_table("agency_members", schema="workflow")
