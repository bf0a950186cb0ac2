"""points: a village admin may void a store sale (the goods came back) within the void window

Revision ID: 0009
Revises: 0008

A sale keeps its status (``completed`` or ``voided``), who voided it, when, why, and the refund
transaction that returned the points. Existing sales are ``completed``; ``points_store_redeem``
(0006) inserts sales without naming the status, so the server default serves it unchanged.
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("points_store_redemptions") as batch:
        batch.add_column(sa.Column("status", sa.String(length=10), server_default="completed", nullable=False))
        batch.add_column(sa.Column("voided_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("refund_transaction_id", sa.String(length=40), nullable=True))
        batch.create_foreign_key(op.f("fk_points_store_redemptions_voided_by_accounts"), "accounts",
                                 ["voided_by"], ["id"])
        batch.create_foreign_key(op.f("fk_points_store_redemptions_refund_transaction_id_points_transactions"),
                                 "points_transactions", ["refund_transaction_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("points_store_redemptions") as batch:
        batch.drop_constraint(op.f("fk_points_store_redemptions_refund_transaction_id_points_transactions"),
                              type_="foreignkey")
        batch.drop_constraint(op.f("fk_points_store_redemptions_voided_by_accounts"), type_="foreignkey")
        for column in ("refund_transaction_id", "void_reason", "voided_by", "voided_at", "status"):
            batch.drop_column(column)
