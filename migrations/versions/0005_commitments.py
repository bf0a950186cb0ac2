"""commitments: templates, commitments, sealed documents, seal keys, credit reports

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seal_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('x', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('private_cipher', sa.LargeBinary(), nullable=True),
    sa.Column('active_slot', sa.Integer(), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_seal_keys')),
    sa.UniqueConstraint('active_slot', name=op.f('uq_seal_keys_active_slot'))
    )
    op.create_table('seals',
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['seal_keys.kid'], name=op.f('fk_seals_key_id_seal_keys')),
    sa.PrimaryKeyConstraint('public_id', name=op.f('pk_seals'))
    )
    op.create_table('commitment_templates',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('family_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('department_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('validity_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_commitment_templates_created_by_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['organisations.id'], name=op.f('fk_commitment_templates_department_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_templates')),
    sa.UniqueConstraint('family_id', 'version', name=op.f('uq_commitment_templates_family_id_version'))
    )
    op.create_index('ix_commitment_templates_department_current', 'commitment_templates', ['department_id', 'is_current'], unique=False)
    op.create_index(op.f('ix_commitment_templates_family_id'), 'commitment_templates', ['family_id'], unique=False)
    op.create_table('credit_reports',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_person_id', sa.String(length=40), nullable=True),
    sa.Column('subject_org_id', sa.String(length=40), nullable=True),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=True),
    sa.Column('issued_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['public_id'], ['seals.public_id'], name=op.f('fk_credit_reports_public_id_seals')),
    sa.ForeignKeyConstraint(['requested_by'], ['accounts.id'], name=op.f('fk_credit_reports_requested_by_accounts')),
    sa.ForeignKeyConstraint(['subject_org_id'], ['organisations.id'], name=op.f('fk_credit_reports_subject_org_id_organisations')),
    sa.ForeignKeyConstraint(['subject_person_id'], ['persons.id'], name=op.f('fk_credit_reports_subject_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_reports')),
    sa.UniqueConstraint('public_id', name=op.f('uq_credit_reports_public_id'))
    )
    op.create_index(op.f('ix_credit_reports_requested_by'), 'credit_reports', ['requested_by'], unique=False)
    op.create_index(op.f('ix_credit_reports_subject_org_id'), 'credit_reports', ['subject_org_id'], unique=False)
    op.create_index(op.f('ix_credit_reports_subject_person_id'), 'credit_reports', ['subject_person_id'], unique=False)
    op.create_table('commitments',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('template_id', sa.String(length=40), nullable=True),
    sa.Column('department_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_person_id', sa.String(length=40), nullable=True),
    sa.Column('subject_org_id', sa.String(length=40), nullable=True),
    sa.Column('drafter_account_id', sa.String(length=40), nullable=True),
    sa.Column('public_id', sa.String(length=32), nullable=True),
    sa.Column('signed_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signer_ip', sa.String(length=64), nullable=True),
    sa.Column('signer_user_agent', sa.String(length=400), nullable=True),
    sa.Column('paper_ref', sa.String(length=100), nullable=True),
    sa.Column('recorded_by', sa.String(length=40), nullable=True),
    sa.Column('decided_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('credit_record_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], name=op.f('fk_commitments_decided_by_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['organisations.id'], name=op.f('fk_commitments_department_id_organisations')),
    sa.ForeignKeyConstraint(['drafter_account_id'], ['accounts.id'], name=op.f('fk_commitments_drafter_account_id_accounts')),
    sa.ForeignKeyConstraint(['public_id'], ['seals.public_id'], name=op.f('fk_commitments_public_id_seals')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_commitments_recorded_by_accounts')),
    sa.ForeignKeyConstraint(['subject_org_id'], ['organisations.id'], name=op.f('fk_commitments_subject_org_id_organisations')),
    sa.ForeignKeyConstraint(['subject_person_id'], ['persons.id'], name=op.f('fk_commitments_subject_person_id_persons')),
    sa.ForeignKeyConstraint(['template_id'], ['commitment_templates.id'], name=op.f('fk_commitments_template_id_commitment_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitments')),
    sa.UniqueConstraint('department_id', 'paper_ref', name=op.f('uq_commitments_department_id_paper_ref')),
    sa.UniqueConstraint('public_id', name=op.f('uq_commitments_public_id'))
    )
    op.create_index('ix_commitments_department_signed', 'commitments', ['department_id', 'signed_at'], unique=False)
    op.create_index(op.f('ix_commitments_drafter_account_id'), 'commitments', ['drafter_account_id'], unique=False)
    op.create_index(op.f('ix_commitments_status'), 'commitments', ['status'], unique=False)
    op.create_index(op.f('ix_commitments_subject_org_id'), 'commitments', ['subject_org_id'], unique=False)
    op.create_index(op.f('ix_commitments_subject_person_id'), 'commitments', ['subject_person_id'], unique=False)


def downgrade() -> None:
    op.drop_table('commitments')
    op.drop_table('credit_reports')
    op.drop_table('commitment_templates')
    op.drop_table('seals')
    op.drop_table('seal_keys')
