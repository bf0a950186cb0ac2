"""A sale that meets a price change mid-way is refused as ``item_changed``, not ``out_of_stock``.

The sale reads the price, spends the points, then takes the stock on the condition that the price
is still the one charged. A merchant's PATCH committing in between makes that UPDATE find no row;
with the stock still there, the cashier is told the item changed (and its price now), not that it
sold out. The interleaving is forced on PostgreSQL by holding the item's row lock while the sale
runs into it; SQLite serialises the whole request, so it cannot happen there."""

import threading

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from points.models import StoreItem
from tests.pg_locks import wait_until_blocked_by
from tests.points.conftest import run_verify
from tests.points.test_store import _funded, _redeem

pytestmark = pytest.mark.usefixtures("postgresql_only")



def test_a_sale_racing_a_price_change_is_item_changed(app, village, session):
    user, _ = _funded(village, 50)
    item = village.item(price=10, stock=5)
    code = village.code(user)
    engine = app.extensions["engine"]
    with engine.connect() as merchant, Session(bind=engine) as watcher:
        merchant_pid = merchant.execute(text("SELECT pg_backend_pid()")).scalar()
        merchant.execute(select(StoreItem.id).where(StoreItem.id == item["id"]).with_for_update())
        answer = {}
        sale = threading.Thread(target=lambda: answer.update(
            response=_redeem(village, code, item["id"], client=app.test_client())))
        sale.start()
        wait_until_blocked_by(watcher, merchant_pid, "the sale", deadline_s=10.0)
        merchant.execute(update(StoreItem).where(StoreItem.id == item["id"]).values(price=12))
        merchant.commit()
        sale.join(30)
    response = answer["response"]
    assert response.status_code == 409 and response.json["code"] == "item_changed", response.json
    assert response.json["price"] == 12
    assert village.my_points(user)["balance"] == 50  # nothing was spent
    assert session.scalar(select(StoreItem.stock).where(StoreItem.id == item["id"])) == 5
    session.rollback()
    assert run_verify(app).exit_code == 0
    # a fresh code at the new price goes through
    assert _redeem(village, village.code(user), item["id"]).json["points"] == 12
