"""scenarios: 信易+ scenarios (seeded), offers, redemptions, 信用+医疗

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The 信易+ catalogue (Changsha target: at least 15 live scenarios). Reference data: admins add more.
SCENARIOS = [
    ("medical", "信用+医疗", "先诊疗后付费：信用良好的居民在合作医院就诊时免押金、先看病后结算。"),
    ("travel", "信用+旅游", "信用出行：合作旅行社、酒店对守信居民提供免押入住、优先预订与折扣。"),
    ("scenic_spots", "信易游·景区", "A 级以上信用居民游览合作景区享门票减免、快速入园。"),
    ("deposit_free_rental", "信易租·免押租赁", "充电宝、雨伞、工具、婴儿车等租赁免押金。"),
    ("public_bikes", "信易行·公共自行车", "城市公共自行车、共享单车免押金骑行、延长免费时长。"),
    ("library", "信易阅·图书馆", "图书馆免押金办证、提高借阅册数与续借次数。"),
    ("parking", "信易停·停车", "合作停车场先离场后付费、停车费优惠。"),
    ("sports_venues", "信易动·体育场馆", "公共体育场馆预约优先、场地费折扣。"),
    ("housing_rental", "信易住·住房租赁", "保障性住房与合作长租公寓减免押金、分期付租。"),
    ("gov_fast_lane", "信易批·政务绿色通道", "政务服务“容缺受理”、绿色通道优先办理、告知承诺。"),
    ("public_transport", "信易行·公共交通", "地铁、公交先乘车后付费，信用乘车码。"),
    ("elder_care", "信易养·养老服务", "养老机构入住押金减免、居家养老服务优惠。"),
    ("education", "信易学·教育培训", "职业技能培训、老年大学报名优先与学费优惠。"),
    ("culture", "信易文·文化场馆", "剧院、博物馆、文化馆活动优先预约与购票优惠。"),
    ("utility_deposit", "信易缴·水电气押金", "水、电、燃气开户免押金、欠费宽限期延长。"),
    ("credit_loans", "信易贷·普惠金融", "合作银行为守信居民提供免抵押信用贷款与利率优惠。"),
    ("car_rental", "信易租·汽车租赁", "汽车租赁免车辆押金与违章押金。"),
]


def upgrade() -> None:
    op.create_table('scenarios',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_scenarios')),
    info={'reference': True}
    )
    op.create_table('hospital_policies',
    sa.Column('hospital_id', sa.String(length=40), nullable=False),
    sa.Column('min_level', sa.String(length=3), nullable=False),
    sa.Column('line_a_fen', sa.Integer(), nullable=False),
    sa.Column('line_aa_fen', sa.Integer(), nullable=False),
    sa.Column('line_aaa_fen', sa.Integer(), nullable=False),
    sa.Column('repayment_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['organisations.id'], name=op.f('fk_hospital_policies_hospital_id_organisations')),
    sa.PrimaryKeyConstraint('hospital_id', name=op.f('pk_hospital_policies'))
    )
    op.create_table('medical_credit_lines',
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('used_fen', sa.Integer(), nullable=False),
    sa.CheckConstraint('used_fen >= 0', name=op.f('ck_medical_credit_lines_used_not_negative')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_medical_credit_lines_person_id_persons')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_medical_credit_lines'))
    )
    op.create_table('offers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('scenario_code', sa.String(length=40), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('benefit', sa.Text(), nullable=False),
    sa.Column('min_level', sa.String(length=3), nullable=False),
    sa.Column('red_list_only', sa.Boolean(), nullable=False),
    sa.Column('per_person_limit', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=8), nullable=True),
    sa.Column('total_quota', sa.Integer(), nullable=True),
    sa.Column('remaining_quota', sa.Integer(), nullable=True),
    sa.Column('valid_from', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_to', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining_quota IS NULL OR remaining_quota >= 0', name=op.f('ck_offers_quota_not_negative')),
    sa.ForeignKeyConstraint(['merchant_id'], ['organisations.id'], name=op.f('fk_offers_merchant_id_organisations')),
    sa.ForeignKeyConstraint(['scenario_code'], ['scenarios.code'], name=op.f('fk_offers_scenario_code_scenarios')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_offers_scenario_active', ['scenario_code', 'active'], unique=False)

    op.create_table('medical_visits',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('hospital_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('opened_by', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('opened_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('settled_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hospital_id'], ['organisations.id'], name=op.f('fk_medical_visits_hospital_id_organisations')),
    sa.ForeignKeyConstraint(['opened_by'], ['accounts.id'], name=op.f('fk_medical_visits_opened_by_accounts')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_medical_visits_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_visits'))
    )
    with op.batch_alter_table('medical_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_medical_visits_hospital_id'), ['hospital_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_medical_visits_person_id'), ['person_id'], unique=False)

    op.create_table('offer_usages',
    sa.Column('offer_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('period_key', sa.String(length=10), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.CheckConstraint('used >= 0', name=op.f('ck_offer_usages_used_not_negative')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_usages_offer_id_offers')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_offer_usages_person_id_persons')),
    sa.PrimaryKeyConstraint('offer_id', 'person_id', 'period_key', name=op.f('pk_offer_usages'))
    )
    op.create_table('redemptions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('offer_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('scenario_code', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('cashier_id', sa.String(length=40), nullable=False),
    sa.Column('period_key', sa.String(length=10), nullable=False),
    sa.Column('level', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('voided_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_by', sa.String(length=40), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cashier_id'], ['accounts.id'], name=op.f('fk_redemptions_cashier_id_accounts')),
    sa.ForeignKeyConstraint(['merchant_id'], ['organisations.id'], name=op.f('fk_redemptions_merchant_id_organisations')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_redemptions_offer_id_offers')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_redemptions_person_id_persons')),
    sa.ForeignKeyConstraint(['scenario_code'], ['scenarios.code'], name=op.f('fk_redemptions_scenario_code_scenarios')),
    sa.ForeignKeyConstraint(['voided_by'], ['accounts.id'], name=op.f('fk_redemptions_voided_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions'))
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_merchant_created', ['merchant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemptions_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemptions_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemptions_scenario_code'), ['scenario_code'], unique=False)

    op.create_table('medical_bills',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('visit_id', sa.String(length=40), nullable=False),
    sa.Column('hospital_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('paid_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('overdue_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('default_record_id', sa.String(length=40), nullable=True),
    sa.CheckConstraint('paid_fen >= 0 AND paid_fen <= amount_fen', name=op.f('ck_medical_bills_paid_within_amount')),
    sa.ForeignKeyConstraint(['hospital_id'], ['organisations.id'], name=op.f('fk_medical_bills_hospital_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_medical_bills_person_id_persons')),
    sa.ForeignKeyConstraint(['visit_id'], ['medical_visits.id'], name=op.f('fk_medical_bills_visit_id_medical_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_bills')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_medical_bills_visit_id'))
    )
    with op.batch_alter_table('medical_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_medical_bills_hospital_id'), ['hospital_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_medical_bills_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_medical_bills_status_due', ['status', 'due_date'], unique=False)

    op.create_table('medical_charges',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('visit_id', sa.String(length=40), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('posted_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_medical_charges_amount_positive')),
    sa.ForeignKeyConstraint(['posted_by'], ['accounts.id'], name=op.f('fk_medical_charges_posted_by_accounts')),
    sa.ForeignKeyConstraint(['visit_id'], ['medical_visits.id'], name=op.f('fk_medical_charges_visit_id_medical_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_charges'))
    )
    with op.batch_alter_table('medical_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_medical_charges_visit_id'), ['visit_id'], unique=False)

    op.create_table('medical_payments',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('bill_id', sa.String(length=40), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('posted_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_medical_payments_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['medical_bills.id'], name=op.f('fk_medical_payments_bill_id_medical_bills')),
    sa.ForeignKeyConstraint(['posted_by'], ['accounts.id'], name=op.f('fk_medical_payments_posted_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_payments'))
    )
    with op.batch_alter_table('medical_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_medical_payments_bill_id'), ['bill_id'], unique=False)

    scenarios = sa.table(
        "scenarios",
        sa.column("code", sa.String), sa.column("name", sa.String), sa.column("description", sa.Text),
        sa.column("active", sa.Boolean), sa.column("created_at", backend.db.UTCDateTime()),
    )
    created = backend.db.utcnow()
    op.bulk_insert(scenarios, [
        {"code": code, "name": name, "description": description, "active": True, "created_at": created}
        for code, name, description in SCENARIOS
    ])


def downgrade() -> None:
    with op.batch_alter_table('medical_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_medical_payments_bill_id'))

    op.drop_table('medical_payments')
    with op.batch_alter_table('medical_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_medical_charges_visit_id'))

    op.drop_table('medical_charges')
    with op.batch_alter_table('medical_bills', schema=None) as batch_op:
        batch_op.drop_index('ix_medical_bills_status_due')
        batch_op.drop_index(batch_op.f('ix_medical_bills_person_id'))
        batch_op.drop_index(batch_op.f('ix_medical_bills_hospital_id'))

    op.drop_table('medical_bills')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemptions_scenario_code'))
        batch_op.drop_index(batch_op.f('ix_redemptions_person_id'))
        batch_op.drop_index(batch_op.f('ix_redemptions_offer_id'))
        batch_op.drop_index('ix_redemptions_merchant_created')

    op.drop_table('redemptions')
    op.drop_table('offer_usages')
    with op.batch_alter_table('medical_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_medical_visits_person_id'))
        batch_op.drop_index(batch_op.f('ix_medical_visits_hospital_id'))

    op.drop_table('medical_visits')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_scenario_active')
        batch_op.drop_index(batch_op.f('ix_offers_region_code'))
        batch_op.drop_index(batch_op.f('ix_offers_merchant_id'))

    op.drop_table('offers')
    op.drop_table('medical_credit_lines')
    op.drop_table('hospital_policies')
    op.drop_table('scenarios')
