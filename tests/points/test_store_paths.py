"""The two implementations of a store redemption agree, outcome by outcome and row by row:
``points_store_redeem`` (PostgreSQL, migration 0006) and the statement-by-statement path that
SQLite uses. Both exist only on PostgreSQL, so this runs in the suite's PostgreSQL pass; the
HTTP tests of test_store.py run each backend's own path on both passes."""

import datetime as dt

import pytest
from sqlalchemy import select

from points.models import PointsAccount, PointsEntry, PointsTransaction, StoreItem, StoreRedemption
from points.service import store
from tests.points.test_store import _funded

PATHS = {"portable": store._redeem_portable, "postgresql": store._redeem_in_postgresql}
NOW = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.usefixtures("postgresql_only")  # points_store_redeem exists only there



def _run(session, path, village, *, item_id, person_id, quantity):
    """One posting by ``path`` inside a transaction that is rolled back: its outcome and every row it
    wrote or changed, ids left out (each posting draws its own)."""
    posting = store._Posting(org_id=village.id, item_id=item_id, person_id=person_id, quantity=quantity,
                             cashier_id=village.cashier.id, now=NOW)
    result = PATHS[path](session.connection(), posting)
    accounts = {a.id: a for a in session.scalars(select(PointsAccount).where(PointsAccount.org_id == village.id))}
    transaction = session.execute(select(
        PointsTransaction.org_id, PointsTransaction.kind, PointsTransaction.memo, PointsTransaction.created_by,
        PointsTransaction.created_at).where(PointsTransaction.id == posting.transaction_id)).one_or_none()
    entries = sorted(
        (accounts[e.account_id].kind, e.org_id, e.kind, e.amount, e.memo, e.created_at)
        for e in session.scalars(select(PointsEntry).where(PointsEntry.transaction_id == posting.transaction_id)))
    redemption = session.execute(select(
        StoreRedemption.org_id, StoreRedemption.item_id, StoreRedemption.account_id, StoreRedemption.quantity,
        StoreRedemption.points, StoreRedemption.cashier_id, StoreRedemption.created_at,
    ).where(StoreRedemption.id == posting.redemption_id)).one_or_none()
    state = {
        "outcome": result.outcome, "account": result.account_id, "balance": result.balance, "cost": result.cost,
        "transaction": tuple(transaction) if transaction else None, "entries": entries,
        "redemption": tuple(redemption) if redemption else None,
        "balances": sorted((a.kind, a.key, a.balance) for a in accounts.values()),
        "stock": session.scalar(select(StoreItem.stock).where(StoreItem.id == item_id)),
    }
    session.rollback()
    return state


def _both(session, village, **posting):
    portable, postgresql = (_run(session, path, village, **posting) for path in PATHS)
    assert portable == postgresql
    return portable


def test_a_sale_writes_the_same_rows_either_way(village, session):
    user, resident_id = _funded(village, 50)
    item = village.item(name="香皂", price=7, stock=5)
    sale = _both(session, village, item_id=item["id"], person_id=user.person_id, quantity=3)
    assert sale["outcome"] == "ok" and sale["account"] == resident_id
    assert sale["balance"] == 29 and sale["cost"] == 21 and sale["stock"] == 2
    assert sale["transaction"] == (village.id, "redemption", "兑换 香皂 ×3", village.cashier.id, NOW)
    assert sale["entries"] == [("resident", village.id, "redemption", -21, "兑换 香皂 ×3", NOW),
                               ("store", village.id, "redemption", 21, "兑换 香皂 ×3", NOW)]
    assert sale["redemption"] == (village.id, item["id"], resident_id, 3, 21, village.cashier.id, NOW)
    assert ("store", "store", 21) in sale["balances"]


def test_every_refusal_is_the_same_outcome_either_way(village, session, factory):
    item = village.item(price=10, stock=1)
    stranger = factory.user("resident")
    # no resident on the roll yet, so no store account (the first resident opens it): nothing written
    first = _both(session, village, item_id=item["id"], person_id=stranger.person_id, quantity=1)
    assert first["outcome"] == "store_account_missing" and first["transaction"] is None
    user, _ = _funded(village, 50)
    cases = {
        "item_not_found": {"item_id": "psi_unknown", "person_id": user.person_id, "quantity": 1},
        "resident_not_found": {"item_id": item["id"], "person_id": stranger.person_id, "quantity": 1},
        "insufficient_points": {"item_id": item["id"], "person_id": user.person_id, "quantity": 6},
        "out_of_stock": {"item_id": item["id"], "person_id": user.person_id, "quantity": 2},
    }
    for outcome, posting in cases.items():
        assert _both(session, village, **posting)["outcome"] == outcome, outcome
