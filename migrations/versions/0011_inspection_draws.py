"""credit: 双随机 inspection draws of a department (targets weighted by grade, random inspectors)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_draws",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("department_id", sa.String(length=40), nullable=False),
        sa.Column("drawn_by", sa.String(length=40), nullable=False),
        sa.Column("seed", sa.String(length=24), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("inspectors_per_target", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("candidates_digest", sa.String(length=64), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["organisations.id"],
                                name=op.f("fk_inspection_draws_department_id_organisations")),
        sa.ForeignKeyConstraint(["drawn_by"], ["accounts.id"], name=op.f("fk_inspection_draws_drawn_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draws")),
    )
    op.create_index("ix_inspection_draws_department_id_id", "inspection_draws", ["department_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_inspection_draws_department_id_id", table_name="inspection_draws")
    op.drop_table("inspection_draws")
