"""积分超市: items with a price and stock; redemptions by a cashier with the resident's one-time code."""

from __future__ import annotations

from typing import Any, cast

from redis import Redis
from sqlalchemy import Table, and_, insert, select, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.db import new_id, rowcount, utcnow
from backend.errors import Conflict, NotFound
from backend.qr import service as qr_service
from points import ledger
from points.models import PointsAccount, PointsEntry, PointsTransaction, StoreItem, StoreRedemption
from points.service.common import resident_by_person, system_account, village


def create_item(*, session: Session, org_id: str, name: str, price: int, stock: int) -> StoreItem:
    village(session, org_id)
    item = StoreItem(org_id=org_id, name=name.strip(), price=price, stock=stock, active=True)
    session.add(item)
    session.commit()
    return item


def list_items(*, session: Session, org_id: str, include_inactive: bool = False) -> list[StoreItem]:
    stmt = select(StoreItem).where(StoreItem.org_id == org_id)
    if not include_inactive:
        stmt = stmt.where(StoreItem.active.is_(True))
    return list(session.scalars(stmt.order_by(StoreItem.id)))


def _item(session: Session, org_id: str, item_id: str) -> StoreItem:
    item = session.get(StoreItem, item_id)
    if item is None or item.org_id != org_id:
        raise NotFound("item_not_found")
    return item


def update_item(*, session: Session, org_id: str, item_id: str, restock: int | None = None,
                **changes: Any) -> StoreItem:
    """Rename, reprice, retire, or add stock (``restock``: added by a relative UPDATE, safe beside redemptions)."""
    item = _item(session, org_id, item_id)
    for field, value in changes.items():
        setattr(item, field, value)
    session.flush()
    if restock:
        rowcount(session, update(StoreItem).where(StoreItem.id == item.id).values(stock=StoreItem.stock + restock))
    session.commit()
    session.refresh(item)
    return item


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def redeem(*, session: Session, redis: Redis, actor: Actor, org_id: str, code: str, item_id: str,
           quantity: int) -> dict[str, Any]:
    """Redeem ``quantity`` of an item for the resident behind ``code``.

    The code is consumed first (one atomic GETDEL in Redis), so it is burnt
    even when the redemption then fails for lack of points or stock: the
    resident shows a fresh code. Then, in one transaction: conditional
    balance UPDATE (never below zero), the transaction, its two entries and
    the redemption row, conditional stock UPDATE, store balance.

    Row locks are taken in the order resident -> item -> store (approvals:
    resident -> issuance), so there is no deadlock; the two rows every
    redemption of the village shares (item, store) are updated last, just
    before the commit, so they stay locked as briefly as possible.
    """
    # Core statements on the tables (no ORM unit of work): this is the hot path of the store.
    accounts, items = _table(PointsAccount), _table(StoreItem)
    conn = session.connection()
    store = accounts.alias("store")
    item = conn.execute(
        select(items.c.price, items.c.name, store.c.id.label("store_id"))
        .select_from(items.outerjoin(store, and_(store.c.org_id == items.c.org_id, store.c.key == "store")))
        .where(items.c.id == item_id, items.c.org_id == org_id, items.c.active.is_(True))
    ).one_or_none()
    if item is None:
        raise NotFound("item_not_found")
    person_id = qr_service.consume(redis=redis, code=code)
    cost = item.price * quantity
    row = conn.execute(
        update(accounts)
        .where(accounts.c.org_id == org_id, accounts.c.key == person_id, accounts.c.kind == "resident",
               accounts.c.balance >= cost)
        .values(balance=accounts.c.balance - cost)
        .returning(accounts.c.id, accounts.c.balance)
    ).one_or_none()
    if row is None:
        if resident_by_person(session, org_id, person_id) is None:
            raise NotFound("resident_not_found")
        raise Conflict("insufficient_points")
    resident_id, balance = row
    store_id = item.store_id or system_account(session, org_id, "store").id
    now = utcnow()
    memo = f"兑换 {item.name} ×{quantity}"[:200]
    tx_id, redemption_id = new_id("ptx"), new_id("prd")
    conn.execute(insert(_table(PointsTransaction)).values(
        id=tx_id, org_id=org_id, kind=ledger.REDEMPTION, memo=memo, created_by=actor.account_id, created_at=now))
    conn.execute(insert(_table(PointsEntry)), [
        {"id": new_id("pen"), "transaction_id": tx_id, "account_id": leg.account, "org_id": org_id,
         "kind": ledger.REDEMPTION, "amount": leg.amount, "memo": memo, "created_at": now}
        for leg in ledger.redemption_legs(resident=resident_id, store=store_id, cost=cost)
    ])
    conn.execute(insert(_table(StoreRedemption)).values(
        id=redemption_id, org_id=org_id, item_id=item_id, account_id=resident_id, quantity=quantity, points=cost,
        cashier_id=actor.account_id, transaction_id=tx_id, created_at=now))
    if not conn.execute(update(items).where(items.c.id == item_id, items.c.price == item.price,
                                            items.c.stock >= quantity)
                        .values(stock=items.c.stock - quantity)).rowcount:
        raise Conflict("out_of_stock")  # or repriced a moment ago: the cashier retries with a fresh code
    conn.execute(update(accounts).where(accounts.c.id == store_id).values(balance=accounts.c.balance + cost))
    session.commit()
    return {"id": redemption_id, "item_id": item_id, "resident_id": resident_id, "quantity": quantity,
            "points": cost, "balance": balance, "transaction_id": tx_id, "created_at": now}
