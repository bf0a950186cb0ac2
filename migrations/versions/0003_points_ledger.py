"""points ledger: accounts, transactions, entries, rules, awards, store

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('points_rules',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('limit_per_period', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=8), nullable=True),
    sa.Column('evidence_required', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_rules_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_rules')),
    sa.UniqueConstraint('org_id', 'code', name=op.f('uq_points_rules_org_id_code'))
    )
    op.create_table('points_store_items',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_store_items_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_store_items'))
    )
    op.create_index(op.f('ix_points_store_items_org_id'), 'points_store_items', ['org_id'], unique=False)
    op.create_table('points_village_settings',
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('star_thresholds', sa.JSON(), nullable=False),
    sa.Column('updated_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_village_settings_org_id_organisations')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_points_village_settings'))
    )
    op.create_table('points_accounts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=True),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['accounts.id'], name=op.f('fk_points_accounts_added_by_accounts')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_accounts_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_points_accounts_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_accounts')),
    sa.UniqueConstraint('org_id', 'key', name=op.f('uq_points_accounts_org_id_key'))
    )
    op.create_index('ix_points_accounts_person_id', 'points_accounts', ['person_id'], unique=False)
    op.create_table('points_transactions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_points_transactions_created_by_accounts')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_transactions_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_transactions'))
    )
    op.create_index(op.f('ix_points_transactions_org_id'), 'points_transactions', ['org_id'], unique=False)
    op.create_table('points_awards',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('rule_id', sa.String(length=40), nullable=False),
    sa.Column('rule_code', sa.String(length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_by', sa.String(length=40), nullable=False),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decided_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('approved_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('transaction_id', sa.String(length=40), nullable=True),
    sa.Column('reversed_by', sa.String(length=40), nullable=True),
    sa.Column('reversed_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reversal_reason', sa.Text(), nullable=True),
    sa.Column('reversal_transaction_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['points_accounts.id'], name=op.f('fk_points_awards_account_id_points_accounts')),
    sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], name=op.f('fk_points_awards_decided_by_accounts')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_awards_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_points_awards_person_id_persons')),
    sa.ForeignKeyConstraint(['reversal_transaction_id'], ['points_transactions.id'], name=op.f('fk_points_awards_reversal_transaction_id_points_transactions')),
    sa.ForeignKeyConstraint(['reversed_by'], ['accounts.id'], name=op.f('fk_points_awards_reversed_by_accounts')),
    sa.ForeignKeyConstraint(['rule_id'], ['points_rules.id'], name=op.f('fk_points_awards_rule_id_points_rules')),
    sa.ForeignKeyConstraint(['submitted_by'], ['accounts.id'], name=op.f('fk_points_awards_submitted_by_accounts')),
    sa.ForeignKeyConstraint(['transaction_id'], ['points_transactions.id'], name=op.f('fk_points_awards_transaction_id_points_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_awards'))
    )
    op.create_index('ix_points_awards_limit', 'points_awards', ['account_id', 'rule_id', 'status', 'approved_at'], unique=False)
    op.create_index('ix_points_awards_org_status', 'points_awards', ['org_id', 'status'], unique=False)
    op.create_table('points_entries',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('transaction_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['points_accounts.id'], name=op.f('fk_points_entries_account_id_points_accounts')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_entries_org_id_organisations')),
    sa.ForeignKeyConstraint(['transaction_id'], ['points_transactions.id'], name=op.f('fk_points_entries_transaction_id_points_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries'))
    )
    op.create_index('ix_points_entries_account_created', 'points_entries', ['account_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_points_entries_transaction_id'), 'points_entries', ['transaction_id'], unique=False)
    op.create_table('points_store_redemptions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('cashier_id', sa.String(length=40), nullable=False),
    sa.Column('transaction_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['points_accounts.id'], name=op.f('fk_points_store_redemptions_account_id_points_accounts')),
    sa.ForeignKeyConstraint(['cashier_id'], ['accounts.id'], name=op.f('fk_points_store_redemptions_cashier_id_accounts')),
    sa.ForeignKeyConstraint(['item_id'], ['points_store_items.id'], name=op.f('fk_points_store_redemptions_item_id_points_store_items')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_points_store_redemptions_org_id_organisations')),
    sa.ForeignKeyConstraint(['transaction_id'], ['points_transactions.id'], name=op.f('fk_points_store_redemptions_transaction_id_points_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_store_redemptions'))
    )
    op.create_index(op.f('ix_points_store_redemptions_account_id'), 'points_store_redemptions', ['account_id'], unique=False)
    op.create_index(op.f('ix_points_store_redemptions_org_id'), 'points_store_redemptions', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_points_store_redemptions_org_id'), table_name='points_store_redemptions')
    op.drop_index(op.f('ix_points_store_redemptions_account_id'), table_name='points_store_redemptions')
    op.drop_table('points_store_redemptions')
    op.drop_index(op.f('ix_points_entries_transaction_id'), table_name='points_entries')
    op.drop_index('ix_points_entries_account_created', table_name='points_entries')
    op.drop_table('points_entries')
    op.drop_index('ix_points_awards_org_status', table_name='points_awards')
    op.drop_index('ix_points_awards_limit', table_name='points_awards')
    op.drop_table('points_awards')
    op.drop_index(op.f('ix_points_transactions_org_id'), table_name='points_transactions')
    op.drop_table('points_transactions')
    op.drop_index('ix_points_accounts_person_id', table_name='points_accounts')
    op.drop_table('points_accounts')
    op.drop_table('points_village_settings')
    op.drop_index(op.f('ix_points_store_items_org_id'), table_name='points_store_items')
    op.drop_table('points_store_items')
    op.drop_table('points_rules')
