"""commitments: a fulfilment stays on record when the commitment is later breached

Revision ID: 0010
Revises: 0009

A commitment marked fulfilled may later be found false and breached. The breach used to
overwrite ``decided_at``, ``decided_by`` and ``decision_reason``, so who had marked it fulfilled,
when and why was lost. The fulfilment now has columns of its own; existing fulfilled
commitments copy their decision into them.
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitments") as batch:
        batch.add_column(sa.Column("fulfilled_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("fulfilled_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("fulfilment_reason", sa.Text(), nullable=True))
        batch.create_foreign_key(op.f("fk_commitments_fulfilled_by_accounts"), "accounts", ["fulfilled_by"], ["id"])
    op.execute("UPDATE commitments SET fulfilled_at = decided_at, fulfilled_by = decided_by, "
               "fulfilment_reason = decision_reason WHERE status = 'fulfilled'")


def downgrade() -> None:
    with op.batch_alter_table("commitments") as batch:
        batch.drop_constraint(op.f("fk_commitments_fulfilled_by_accounts"), type_="foreignkey")
        for column in ("fulfilment_reason", "fulfilled_by", "fulfilled_at"):
            batch.drop_column(column)
