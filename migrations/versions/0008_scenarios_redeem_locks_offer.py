"""scenarios: a redemption locks its offer and takes the quota and limit the offer has at that moment

Revision ID: 0008
Revises: 0007

``scenarios_redeem`` (0007) took a quota and counted a use only when the caller's read of the
offer had a quota or a per-person limit. A redemption still in flight when a merchant first set
one therefore committed uncounted: one place over the quota, or one use past the limit, per such
redemption. Now the function first locks the offer row (FOR NO KEY UPDATE: a PATCH of the offer,
a void and other redemptions of it wait; inserts that only reference the offer do not) and
decides on the offer as it is under that lock: its quota, its limit's number, its active flag.
When the offer was switched off, or its limit added, removed or moved to another period since
the caller read it (the caller's period key would be wrong), it writes nothing and answers
``offer_changed``: the caller reads the offer again and retries. A PATCH that changes the quota
locks the same row before it recounts, so every redemption is either committed and counted or
waits for the new quota. ``scenarios.service.redemptions._write_portable`` (SQLite, where the
whole request already holds the database's write lock) makes the same decisions statement by
statement.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

REDEEM = """
CREATE FUNCTION scenarios_redeem(
    p_id text, p_offer_id text, p_merchant_id text, p_scenario_code text, p_person_id text, p_cashier_id text,
    p_period text, p_period_key text, p_level text, p_now timestamptz,
    OUT o_outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    v_active boolean;
    v_limit integer;
    v_period text;
    v_total integer;
BEGIN
    SELECT o.active, o.per_person_limit, o.period, o.total_quota INTO v_active, v_limit, v_period, v_total
      FROM offers o WHERE o.id = p_offer_id FOR NO KEY UPDATE;
    IF NOT FOUND OR NOT v_active
       OR (CASE WHEN v_limit IS NULL THEN NULL ELSE v_period END) IS DISTINCT FROM p_period THEN
        o_outcome := 'offer_changed';
        RETURN;
    END IF;
    IF v_limit IS NOT NULL THEN
        INSERT INTO offer_usages AS u (offer_id, person_id, period_key, used)
        VALUES (p_offer_id, p_person_id, p_period_key, 1)
        ON CONFLICT (offer_id, person_id, period_key) DO UPDATE SET used = u.used + 1
        WHERE u.used < v_limit;
        IF NOT FOUND THEN
            o_outcome := 'limit_reached';
            RETURN;
        END IF;
    END IF;
    IF v_total IS NOT NULL THEN
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

_OLD_SIGNATURE = "text, text, text, text, text, text, text, text, integer, boolean, timestamptz"
_NEW_SIGNATURE = "text, text, text, text, text, text, text, text, text, timestamptz"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS scenarios_redeem({_OLD_SIGNATURE})")
        op.execute(REDEEM)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS scenarios_redeem({_NEW_SIGNATURE})")
        spec = importlib.util.spec_from_file_location("_revision_0007",
                                                      Path(__file__).with_name("0007_scenarios_redeem.py"))
        assert spec is not None and spec.loader is not None
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous.REDEEM)
