"""credit: an inspection draw keeps what it chose from (candidates with grades, officers, conflicts)

Revision ID: 0012
Revises: 0011

Grades and memberships change after a draw, so its seed and the candidates' digest alone let an
auditor check it only with a copy of the inputs saved at the time. The draw now keeps them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspection_draws") as batch:
        batch.add_column(sa.Column("inputs", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspection_draws") as batch:
        batch.drop_column("inputs")
