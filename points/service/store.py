"""积分超市: items with a price and stock; redemptions by a cashier with the resident's one-time code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from redis import Redis
from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.days import check_voidable, date_range
from backend.db import new_id, rowcount, utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.identity.ids import mask_name
from backend.identity.models import Person
from backend.pagination import Page, paginate
from backend.qr import service as qr_service
from points import ledger
from points.models import PointsAccount, PointsEntry, PointsTransaction, StoreItem, StoreRedemption
from points.service.common import post, resident_account, system_account, village


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


MAX_STOCK = 10_000_000  # what a village shelf holds of one item, far inside the column's range


def update_item(*, session: Session, org_id: str, item_id: str, restock: int | None = None,
                **changes: Any) -> StoreItem:
    """Rename, reprice, retire, or add stock (``restock``: added by a relative UPDATE, safe beside
    redemptions; the stock stays at most ``MAX_STOCK``, else 422 ``stock_too_large``)."""
    item = _item(session, org_id, item_id)
    for name, value in changes.items():
        setattr(item, name, value)
    session.flush()
    if restock and not rowcount(session, update(StoreItem).where(
            StoreItem.id == item.id, StoreItem.stock <= MAX_STOCK - restock).values(stock=StoreItem.stock + restock)):
        session.rollback()
        raise Invalid("stock_too_large", max_stock=MAX_STOCK)
    session.commit()
    session.refresh(item)
    return item


# The store's hot path runs Core statements built once (no ORM unit of work, no per-request
# statement construction); UPDATE parameters are named b_*, as column names are reserved there.
# On PostgreSQL the same steps run in one call of ``points_store_redeem`` (migration 0006).
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
_RESIDENT_EXISTS = select(_ACCOUNTS.c.id).where(
    _ACCOUNTS.c.org_id == bindparam("org_id"), _ACCOUNTS.c.key == bindparam("person_id"),
    _ACCOUNTS.c.kind == "resident")
_INSERT_TRANSACTION = insert(cast(Table, PointsTransaction.__table__))
_INSERT_ENTRIES = insert(cast(Table, PointsEntry.__table__))
_INSERT_REDEMPTION = insert(cast(Table, StoreRedemption.__table__))
_REDEEM_IN_POSTGRESQL = text(
    "SELECT o_outcome, o_account_id, o_balance, o_cost FROM points_store_redeem(:org_id, :item_id, :person_id, "
    ":quantity, :cashier_id, :transaction_id, :redemption_id, :resident_entry_id, :store_entry_id, :now)"
).columns(o_outcome=String, o_account_id=String, o_balance=Integer, o_cost=Integer)


@dataclass(frozen=True)
class _Posting:
    """One redemption's ids and time, chosen before it runs (either path writes exactly these)."""

    org_id: str
    item_id: str
    person_id: str
    quantity: int
    cashier_id: str
    transaction_id: str = field(default_factory=lambda: new_id("ptx"))
    redemption_id: str = field(default_factory=lambda: new_id("prd"))
    resident_entry_id: str = field(default_factory=lambda: new_id("pen"))
    store_entry_id: str = field(default_factory=lambda: new_id("pen"))
    now: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class _Outcome:
    outcome: str  # ok | item_not_found | store_account_missing | resident_not_found | insufficient_points | out_of_stock
    account_id: str | None = None
    balance: int | None = None
    cost: int | None = None


def _redeem_portable(conn: Connection, p: _Posting) -> _Outcome:
    """The posting step by step (SQLite, or any backend without ``points_store_redeem``)."""
    item = conn.execute(_ITEM_FOR_SALE, {"item_id": p.item_id, "org_id": p.org_id}).one_or_none()
    if item is None:
        return _Outcome("item_not_found")
    if item.store_id is None:
        return _Outcome("store_account_missing")
    cost = item.price * p.quantity
    row = conn.execute(_SPEND, {"b_org_id": p.org_id, "b_person_id": p.person_id, "b_cost": cost}).one_or_none()
    if row is None:
        exists = conn.execute(_RESIDENT_EXISTS, {"org_id": p.org_id, "person_id": p.person_id}).first()
        return _Outcome("insufficient_points" if exists else "resident_not_found")
    account_id, balance = row
    memo = f"兑换 {item.name} ×{p.quantity}"[:200]
    conn.execute(_INSERT_TRANSACTION, {"id": p.transaction_id, "org_id": p.org_id, "kind": ledger.REDEMPTION,
                                       "memo": memo, "created_by": p.cashier_id, "created_at": p.now})
    legs = ledger.redemption_legs(resident=account_id, store=item.store_id, cost=cost)
    conn.execute(_INSERT_ENTRIES, [
        {"id": entry_id, "transaction_id": p.transaction_id, "account_id": leg.account, "org_id": p.org_id,
         "kind": ledger.REDEMPTION, "amount": leg.amount, "memo": memo, "created_at": p.now}
        for entry_id, leg in zip((p.resident_entry_id, p.store_entry_id), legs, strict=True)
    ])
    conn.execute(_INSERT_REDEMPTION, {
        "id": p.redemption_id, "org_id": p.org_id, "item_id": p.item_id, "account_id": account_id,
        "quantity": p.quantity, "points": cost, "cashier_id": p.cashier_id, "transaction_id": p.transaction_id,
        "created_at": p.now})
    if not conn.execute(_TAKE_STOCK, {"b_item_id": p.item_id, "b_unit_price": item.price,
                                      "b_quantity": p.quantity}).rowcount:
        return _Outcome("out_of_stock")
    conn.execute(_CREDIT_STORE, {"b_store_id": item.store_id, "b_cost": cost})
    return _Outcome("ok", account_id, balance, cost)


def _redeem_in_postgresql(conn: Connection, p: _Posting) -> _Outcome:
    outcome, account_id, balance, cost = conn.execute(_REDEEM_IN_POSTGRESQL, vars(p)).one()
    return _Outcome(outcome, account_id, balance, cost) if outcome == "ok" else _Outcome(outcome)  # a refusal: no figures


_REFUSALS = {"item_not_found": NotFound, "resident_not_found": NotFound, "insufficient_points": Conflict,
             "out_of_stock": Conflict}
_ITEM_NOW = select(_ITEMS.c.price, _ITEMS.c.stock).where(_ITEMS.c.id == bindparam("item_id"))


def _refusal(session: Session, outcome: str, item_id: str, quantity: int) -> Exception:
    """The error of a refused sale (its writes already rolled back). The stock UPDATE also fails
    when the item was repriced between the sale's read and its UPDATE (the price charged must be
    the price of the stock taken): with the stock there now, that is 409 ``item_changed`` with the
    price now, not ``out_of_stock``."""
    if outcome == "out_of_stock":
        now = session.connection().execute(_ITEM_NOW, {"item_id": item_id}).one_or_none()
        session.rollback()
        if now is not None and now.stock >= quantity:
            return Conflict("item_changed", price=now.price)
    return _REFUSALS[outcome](outcome)


def redeem(*, session: Session, redis: Redis, actor: Actor, org_id: str, code: str, item_id: str,
           quantity: int) -> dict[str, Any]:
    """Redeem ``quantity`` of an item for the resident behind ``code``.

    The code is consumed first (one atomic GETDEL in Redis), so it is burnt
    even when the redemption then fails (unknown item, lack of points or
    stock): the resident shows a fresh code. Then, in one transaction: the
    item, a conditional balance UPDATE (never below zero), the transaction,
    its two entries and the redemption row, a conditional stock UPDATE, the
    store balance; any refusal rolls all of it back.

    Row locks are taken in the order resident -> item -> store (approvals:
    resident -> issuance), so there is no deadlock; the two rows every
    redemption of the village shares (item, store) are updated last, just
    before the commit, so they stay locked as briefly as possible. On
    PostgreSQL the steps run in one function call (one round trip instead of
    seven), elsewhere statement by statement.
    """
    person_id = qr_service.consume(redis=redis, code=code)
    posting = _Posting(org_id=org_id, item_id=item_id, person_id=person_id, quantity=quantity,
                       cashier_id=actor.account_id)
    conn = session.connection()
    run = _redeem_in_postgresql if conn.dialect.name == "postgresql" else _redeem_portable
    result = run(conn, posting)
    if result.outcome == "store_account_missing":
        system_account(session, org_id, "store")  # the village's first sale opens it
        result = run(conn, posting)
    if result.outcome != "ok":
        session.rollback()
        raise _refusal(session, result.outcome, item_id, quantity)
    session.commit()
    return {"id": posting.redemption_id, "item_id": item_id, "resident_id": result.account_id,
            "quantity": quantity, "points": result.cost, "balance": result.balance,
            "transaction_id": posting.transaction_id, "created_at": posting.now}


@dataclass
class SaleView:
    """A sale as village staff see it: the item, the resident's masked name, who rang it up, and its void."""

    id: str
    item_id: str
    item_name: str
    resident_id: str
    resident_name_masked: str
    quantity: int
    points: int
    cashier_id: str
    transaction_id: str
    created_at: dt.datetime
    status: str
    voided_at: dt.datetime | None
    voided_by: str | None
    void_reason: str | None
    refund_transaction_id: str | None

    @classmethod
    def of(cls, sale: StoreRedemption, *, item_name: str, name: str | None) -> SaleView:
        return cls(id=sale.id, item_id=sale.item_id, item_name=item_name, resident_id=sale.account_id,
                   resident_name_masked=mask_name(name), quantity=sale.quantity, points=sale.points,
                   cashier_id=sale.cashier_id, transaction_id=sale.transaction_id, created_at=sale.created_at,
                   status=sale.status, voided_at=sale.voided_at, voided_by=sale.voided_by,
                   void_reason=sale.void_reason, refund_transaction_id=sale.refund_transaction_id)


def void_sale(*, session: Session, settings: Settings, actor: Actor, org_id: str, sale_id: str, reason: str,
              now: dt.datetime | None = None) -> SaleView:
    """Void a sale within the void window because the goods came back: a refund transaction
    (store -> resident) returns the points, the stock comes back, and the sale keeps who voided
    it, when and why. Its entries stay as they are (append-only); the rating does not move.

    The resident's account is locked first, then the sale is claimed with a conditional UPDATE
    (of two voids at once, one refunds and the other gets 409), then the item's stock and the
    two balances move: the order a redemption takes (resident -> item -> store), so there is no
    deadlock between voids and sales. No one voids a sale to themselves (409 ``conflict_of_interest``).
    """
    now = now or utcnow()
    sale = session.get(StoreRedemption, sale_id)
    if sale is None or sale.org_id != org_id:
        raise NotFound("sale_not_found")
    check_voidable(voided=sale.status == "voided", created_at=sale.created_at, now=now,
                   window_s=settings.redemption_void_window_s)
    resident = resident_account(session, org_id, sale.account_id, lock=True)
    if resident.person_id is not None and resident.person_id == actor.person_id:
        raise Conflict("conflict_of_interest")
    won = rowcount(session, update(StoreRedemption).where(StoreRedemption.id == sale.id,
                                                          StoreRedemption.status == "completed")
                   .values(status="voided", voided_at=now, voided_by=actor.account_id, void_reason=reason)
                   .execution_options(synchronize_session=False))
    if not won:
        raise Conflict("redemption_already_voided")
    item = session.get(StoreItem, sale.item_id)
    item_name = item.name if item else ""
    rowcount(session, update(StoreItem).where(StoreItem.id == sale.item_id)
             .values(stock=StoreItem.stock + sale.quantity))
    store = system_account(session, org_id, "store")
    memo = f"撤销兑换 {item_name} ×{sale.quantity}：{reason}"
    tx = post(session, org_id=org_id, kind=ledger.REFUND, memo=memo, created_by=actor.account_id,
              legs=ledger.refund_legs(resident=resident.id, store=store.id, cost=sale.points))
    rowcount(session, update(StoreRedemption).where(StoreRedemption.id == sale.id)
             .values(refund_transaction_id=tx.id).execution_options(synchronize_session=False))
    name = session.scalar(select(Person.name).where(Person.id == resident.person_id))
    session.commit()
    session.refresh(sale)
    return SaleView.of(sale, item_name=item_name, name=name)


def list_sales(*, session: Session, org_id: str, date_from: dt.date | None = None, date_to: dt.date | None = None,
               limit: int = 20, cursor: str | None = None, now: dt.datetime | None = None) -> Page:
    """The village store's redemptions of a range of Shanghai days (default the last 30), newest first."""
    start, end = date_range(date_from, date_to, now or utcnow())
    stmt = select(StoreRedemption).where(StoreRedemption.org_id == org_id, StoreRedemption.created_at >= start,
                                         StoreRedemption.created_at < end)
    page = paginate(session, stmt, StoreRedemption.id, limit=limit, cursor=cursor)
    sales: list[StoreRedemption] = list(page.items)
    items = dict(session.execute(select(StoreItem.id, StoreItem.name).where(
        StoreItem.id.in_({s.item_id for s in sales}))).tuples().all()) if sales else {}
    names = dict(session.execute(
        select(PointsAccount.id, Person.name).join(Person, Person.id == PointsAccount.person_id)
        .where(PointsAccount.id.in_({s.account_id for s in sales}))).tuples().all()) if sales else {}
    page.items = [SaleView.of(s, item_name=items.get(s.item_id, ""), name=names.get(s.account_id)) for s in sales]
    return page
