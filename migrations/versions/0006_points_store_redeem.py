"""points: the store redemption as one PostgreSQL function (one round trip instead of seven)

Revision ID: 0006
Revises: 0005

``points_store_redeem`` runs the same steps, in the same order, with the same
conditional statements as ``points.service.store._redeem_portable`` (the
SQLite path): the item with the store account, the conditional balance
UPDATE, the transaction, its two entries and the redemption row, the
conditional stock UPDATE, the store balance. It decides nothing the Python
path does not: any outcome but ``ok`` is returned for the caller to roll back
and answer. A change to either path changes both; the suite runs every store
test on both backends.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REDEEM = """
CREATE OR REPLACE FUNCTION points_store_redeem(
    p_org_id text, p_item_id text, p_person_id text, p_quantity integer, p_cashier_id text,
    p_transaction_id text, p_redemption_id text, p_resident_entry_id text, p_store_entry_id text,
    p_now timestamptz,
    OUT o_outcome text, OUT o_account_id text, OUT o_balance integer, OUT o_cost integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_price integer;
    v_name text;
    v_store_id text;
    v_memo text;
BEGIN
    SELECT i.price, i.name, s.id INTO v_price, v_name, v_store_id
      FROM points_store_items i
      LEFT JOIN points_accounts s ON s.org_id = i.org_id AND s.key = 'store'
     WHERE i.id = p_item_id AND i.org_id = p_org_id AND i.active;
    IF NOT FOUND THEN
        o_outcome := 'item_not_found';
        RETURN;
    END IF;
    IF v_store_id IS NULL THEN  -- opened on first use, by the caller
        o_outcome := 'store_account_missing';
        RETURN;
    END IF;
    o_cost := v_price * p_quantity;
    UPDATE points_accounts a SET balance = a.balance - o_cost
     WHERE a.org_id = p_org_id AND a.key = p_person_id AND a.kind = 'resident' AND a.balance >= o_cost
    RETURNING a.id, a.balance INTO o_account_id, o_balance;
    IF NOT FOUND THEN
        o_outcome := CASE WHEN EXISTS (SELECT 1 FROM points_accounts a
                                        WHERE a.org_id = p_org_id AND a.key = p_person_id AND a.kind = 'resident')
                          THEN 'insufficient_points' ELSE 'resident_not_found' END;
        RETURN;
    END IF;
    v_memo := left('兑换 ' || v_name || ' ×' || p_quantity, 200);
    INSERT INTO points_transactions (id, org_id, kind, memo, created_by, created_at)
    VALUES (p_transaction_id, p_org_id, 'redemption', v_memo, p_cashier_id, p_now);
    INSERT INTO points_entries (id, transaction_id, account_id, org_id, kind, amount, memo, created_at)
    VALUES (p_resident_entry_id, p_transaction_id, o_account_id, p_org_id, 'redemption', -o_cost, v_memo, p_now),
           (p_store_entry_id, p_transaction_id, v_store_id, p_org_id, 'redemption', o_cost, v_memo, p_now);
    INSERT INTO points_store_redemptions (id, org_id, item_id, account_id, quantity, points, cashier_id,
                                          transaction_id, created_at)
    VALUES (p_redemption_id, p_org_id, p_item_id, o_account_id, p_quantity, o_cost, p_cashier_id,
            p_transaction_id, p_now);
    UPDATE points_store_items i SET stock = i.stock - p_quantity
     WHERE i.id = p_item_id AND i.price = v_price AND i.stock >= p_quantity;
    IF NOT FOUND THEN  -- the caller rolls the posting back
        o_outcome := 'out_of_stock';
        RETURN;
    END IF;
    UPDATE points_accounts a SET balance = a.balance + o_cost WHERE a.id = v_store_id;
    o_outcome := 'ok';
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REDEEM)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS points_store_redeem(text, text, text, integer, text, text, text, text, "
                   "text, timestamptz)")
