"""scenarios: a redemption's writes as one PostgreSQL function (one round trip instead of three)

Revision ID: 0007
Revises: 0006

``scenarios_redeem`` runs the same conditional statements, in the same order,
as ``scenarios.service.redemptions._write_portable`` (the SQLite path): the
person's usage row of the period (INSERT ... ON CONFLICT DO UPDATE ... WHERE
used < limit), the conditional quota UPDATE, the redemption row. Eligibility
stays in Python (``scenarios.eligibility``); this only writes. Any outcome but
``ok`` is returned for the caller to roll back and answer.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REDEEM = """
CREATE OR REPLACE FUNCTION scenarios_redeem(
    p_id text, p_offer_id text, p_merchant_id text, p_scenario_code text, p_person_id text, p_cashier_id text,
    p_period_key text, p_level text, p_per_person_limit integer, p_take_quota boolean, p_now timestamptz,
    OUT o_outcome text)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_per_person_limit IS NOT NULL THEN
        INSERT INTO offer_usages AS u (offer_id, person_id, period_key, used)
        VALUES (p_offer_id, p_person_id, p_period_key, 1)
        ON CONFLICT (offer_id, person_id, period_key) DO UPDATE SET used = u.used + 1
        WHERE u.used < p_per_person_limit;
        IF NOT FOUND THEN
            o_outcome := 'limit_reached';
            RETURN;
        END IF;
    END IF;
    IF p_take_quota THEN
        UPDATE offers o SET remaining_quota = o.remaining_quota - 1
         WHERE o.id = p_offer_id AND o.remaining_quota > 0;
        IF NOT FOUND THEN  -- the caller rolls the usage back
            o_outcome := 'quota_exhausted';
            RETURN;
        END IF;
    END IF;
    INSERT INTO redemptions (id, offer_id, merchant_id, scenario_code, person_id, cashier_id, period_key, level,
                             status, created_at)
    VALUES (p_id, p_offer_id, p_merchant_id, p_scenario_code, p_person_id, p_cashier_id, p_period_key, p_level,
            'redeemed', p_now);
    o_outcome := 'ok';
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REDEEM)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS scenarios_redeem(text, text, text, text, text, text, text, text, integer, "
                   "boolean, timestamptz)")
