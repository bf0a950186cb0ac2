"""积分超市: items with a price and stock; redemptions by a cashier with the resident's one-time code."""

from __future__ import annotations

from typing import Any, cast

from redis import Redis
from sqlalchemy import Table, and_, bindparam, insert, select, update
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


# The store's hot path runs Core statements built once (no ORM unit of work, no per-request
# statement construction); UPDATE parameters are named b_*, as column names are reserved there.
_ACCOUNTS = cast(Table, PointsAccount.__table__)
_ITEMS = cast(Table, StoreItem.__table__)
_STORE = _ACCOUNTS.alias("store")
_ITEM_FOR_SALE = (
    select(_ITEMS.c.price, _ITEMS.c.name, _STORE.c.id.label("store_id"))
    .select_from(_ITEMS.outerjoin(_STORE, and_(_STORE.c.org_id == _ITEMS.c.org_id, _STORE.c.key == "store")))
    .where(_ITEMS.c.id == bindparam("item_id"), _ITEMS.c.org_id == bindparam("org_id"), _ITEMS.c.active.is_(True))
)
_SPEND = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.org_id == bindparam("b_org_id"), _ACCOUNTS.c.key == bindparam("b_person_id"),
           _ACCOUNTS.c.kind == "resident", _ACCOUNTS.c.balance >= bindparam("b_cost"))
    .values(balance=_ACCOUNTS.c.balance - bindparam("b_cost"))
    .returning(_ACCOUNTS.c.id, _ACCOUNTS.c.balance)
)
_TAKE_STOCK = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("b_item_id"), _ITEMS.c.price == bindparam("b_unit_price"),
           _ITEMS.c.stock >= bindparam("b_quantity"))
    .values(stock=_ITEMS.c.stock - bindparam("b_quantity"))
)
_CREDIT_STORE = update(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("b_store_id")).values(
    balance=_ACCOUNTS.c.balance + bindparam("b_cost"))
_INSERT_TRANSACTION = insert(cast(Table, PointsTransaction.__table__))
_INSERT_ENTRIES = insert(cast(Table, PointsEntry.__table__))
_INSERT_REDEMPTION = insert(cast(Table, StoreRedemption.__table__))


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
    conn = session.connection()
    item = conn.execute(_ITEM_FOR_SALE, {"item_id": item_id, "org_id": org_id}).one_or_none()
    if item is None:
        raise NotFound("item_not_found")
    person_id = qr_service.consume(redis=redis, code=code)
    cost = item.price * quantity
    row = conn.execute(_SPEND, {"b_org_id": org_id, "b_person_id": person_id, "b_cost": cost}).one_or_none()
    if row is None:
        if resident_by_person(session, org_id, person_id) is None:
            raise NotFound("resident_not_found")
        raise Conflict("insufficient_points")
    resident_id, balance = row
    store_id = item.store_id or system_account(session, org_id, "store").id
    now = utcnow()
    memo = f"兑换 {item.name} ×{quantity}"[:200]
    tx_id, redemption_id = new_id("ptx"), new_id("prd")
    conn.execute(_INSERT_TRANSACTION, {"id": tx_id, "org_id": org_id, "kind": ledger.REDEMPTION, "memo": memo,
                                       "created_by": actor.account_id, "created_at": now})
    conn.execute(_INSERT_ENTRIES, [
        {"id": new_id("pen"), "transaction_id": tx_id, "account_id": leg.account, "org_id": org_id,
         "kind": ledger.REDEMPTION, "amount": leg.amount, "memo": memo, "created_at": now}
        for leg in ledger.redemption_legs(resident=resident_id, store=store_id, cost=cost)
    ])
    conn.execute(_INSERT_REDEMPTION, {
        "id": redemption_id, "org_id": org_id, "item_id": item_id, "account_id": resident_id, "quantity": quantity,
        "points": cost, "cashier_id": actor.account_id, "transaction_id": tx_id, "created_at": now})
    if not conn.execute(_TAKE_STOCK, {"b_item_id": item_id, "b_unit_price": item.price, "b_quantity": quantity}).rowcount:
        raise Conflict("out_of_stock")  # or repriced a moment ago: the cashier retries with a fresh code
    conn.execute(_CREDIT_STORE, {"b_store_id": store_id, "b_cost": cost})
    session.commit()
    return {"id": redemption_id, "item_id": item_id, "resident_id": resident_id, "quantity": quantity,
            "points": cost, "balance": balance, "transaction_id": tx_id, "created_at": now}
