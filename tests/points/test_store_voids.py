"""Voiding a points-store sale: the goods came back, so the points and the stock do too (once)."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from backend.db import utcnow
from points.models import PointsAccount, PointsEntry, PointsTransaction, StoreItem, StoreRedemption
from tests.points.conftest import make_village, run_verify
from tests.points.test_store import _funded, _redeem


def _sale(village, *, points=50, price=10, quantity=2, stock=5):
    user, rid = _funded(village, points)
    item = village.item("大米", price=price, stock=stock)
    sold = _redeem(village, village.code(user), item["id"], quantity)
    assert sold.status_code == 201, sold.json
    return user, rid, item, sold.json


def _void(village, sale_id, *, reason="顾客退货", headers=None, client=None, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return (client or village.client).post(village.url(f"/store-redemptions/{sale_id}/void"), json={"reason": reason},
                                           headers={**(headers or village.admin.headers), **extra})


def _stock(session, item_id):
    value = session.scalar(select(StoreItem.stock).where(StoreItem.id == item_id))
    session.rollback()
    return value


def test_a_void_refunds_the_points_returns_the_stock_and_keeps_the_reason(app, village, session):
    user, rid, item, sale = _sale(village)
    assert village.my_points(user)["balance"] == 30 and _stock(session, item["id"]) == 3
    response = _void(village, sale["id"], reason="米袋破损，顾客退回")
    assert response.status_code == 200, response.json
    voided = response.json
    assert voided["status"] == "voided" and voided["void_reason"] == "米袋破损，顾客退回"
    admin_id = village.admin.account.id  # (reloads the account through the test's session)
    session.rollback()
    assert voided["voided_by"] == admin_id and voided["refund_transaction_id"]
    assert voided["resident_name_masked"].endswith("*") and voided["points"] == 20
    points = village.my_points(user)
    assert points["balance"] == 50 and points["rating"] == 50  # a refund moves the balance, not the rating
    assert _stock(session, item["id"]) == 5
    entries = village.client.get("/api/v1/me/points/entries", headers=user.headers).json["items"]
    assert [(e["kind"], e["amount"]) for e in entries] == [("refund", 20), ("redemption", -20), ("award", 50)]
    assert "米袋破损" in entries[0]["memo"]
    store = session.scalars(select(PointsAccount).where(PointsAccount.org_id == village.id,
                                                        PointsAccount.kind == "store")).one()
    assert store.balance == 0
    # the sale's own entries are untouched (append-only): the refund is a transaction of its own
    assert session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.transaction_id == sale["transaction_id"])) == 2
    assert session.get(PointsTransaction, voided["refund_transaction_id"]).kind == "refund"
    session.rollback()
    [listed] = village.client.get(village.url("/store-redemptions"), headers=village.cashier.headers).json["items"]
    assert listed["status"] == "voided" and listed["void_reason"] == "米袋破损，顾客退回"
    result = run_verify(app)
    assert result.exit_code == 0, result.output


def test_a_sale_is_voided_once(village):
    user, _, _, sale = _sale(village)
    assert _void(village, sale["id"]).status_code == 200
    again = _void(village, sale["id"])
    assert again.status_code == 409 and again.json["code"] == "redemption_already_voided"
    assert village.my_points(user)["balance"] == 50


def test_a_retried_void_returns_the_first_response(village, session):
    user, _, _, sale = _sale(village)
    first = _void(village, sale["id"], key="void-1")
    second = _void(village, sale["id"], key="void-1")
    assert first.status_code == second.status_code == 200
    assert second.json == first.json and second.headers.get("Idempotent-Replayed") == "true"
    assert village.my_points(user)["balance"] == 50
    assert session.scalar(select(func.count()).select_from(PointsTransaction).where(
        PointsTransaction.kind == "refund")) == 1
    session.rollback()


def test_a_sale_older_than_the_window_stays(village, session):
    user, _, item, sale = _sale(village)
    session.execute(update(StoreRedemption).where(StoreRedemption.id == sale["id"])
                    .values(created_at=utcnow() - dt.timedelta(hours=24, minutes=1)))
    session.commit()
    response = _void(village, sale["id"])
    assert response.status_code == 409 and response.json["code"] == "void_window_passed"
    assert response.json["hours"] == 24
    assert village.my_points(user)["balance"] == 30 and _stock(session, item["id"]) == 3


def test_only_the_village_admin_voids_and_never_a_sale_to_themselves(client, factory, village, session):
    _, _, _, sale = _sale(village)
    for staff in (village.cashier, village.clerk, village.approver):
        assert _void(village, sale["id"], headers=staff.headers).status_code == 403
    # an admin who is also a resident of the village cannot refund their own purchase; a colleague may
    neighbour = factory.user("admin", village.org, verified=True)
    session.rollback()
    _, neighbour_rid = village.add_resident(neighbour)
    village.rule("fund_admin", 30)
    village.award(neighbour_rid, "fund_admin")
    item = village.item("肥皂", price=10, stock=5)
    own = _redeem(village, village.code(neighbour), item["id"])
    assert own.status_code == 201, own.json
    refused = _void(village, own.json["id"], headers=neighbour.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
    assert _void(village, own.json["id"]).status_code == 200
    # another village's admin sees nothing of this one
    other = make_village(client, factory)
    session.rollback()
    foreign = _void(village, sale["id"], headers=other.admin.headers)
    assert foreign.status_code in (403, 404)
    elsewhere = client.post(other.url(f"/store-redemptions/{sale['id']}/void"), json={"reason": "x"},
                            headers=other.admin.headers)
    assert elsewhere.status_code == 404 and elsewhere.json["code"] == "sale_not_found"


def test_a_void_needs_a_readable_reason(village):
    _, _, _, sale = _sale(village)
    for body in ({}, {"reason": ""}, {"reason": " \u200b "}):
        response = village.client.post(village.url(f"/store-redemptions/{sale['id']}/void"), json=body,
                                       headers=village.admin.headers)
        assert response.status_code == 422, (body, response.json)
    unknown = _void(village, "prd_" + "0" * 26)
    assert unknown.status_code == 404 and unknown.json["code"] == "sale_not_found"


def test_a_retired_item_still_gets_its_stock_back(village, session):
    user, _, item, sale = _sale(village)
    village.client.patch(village.url(f"/store-items/{item['id']}"), json={"active": False},
                         headers=village.admin.headers)
    assert _void(village, sale["id"]).status_code == 200
    assert _stock(session, item["id"]) == 5 and village.my_points(user)["balance"] == 50


def test_16_concurrent_voids_refund_once_beside_sales(app, village, session):
    """Voids race each other and new sales of the same item and resident: one refund, no deadlock."""
    user, rid, item, sale = _sale(village, points=100, quantity=1, stock=20)
    codes = [village.code(user) for _ in range(8)]

    def void(_):
        return _void(village, sale["id"], client=app.test_client()).status_code

    def redeem(code):
        return _redeem(village, code, item["id"], client=app.test_client()).status_code

    with ThreadPoolExecutor(max_workers=24) as pool:
        voids = [pool.submit(void, n) for n in range(16)]
        sales = [pool.submit(redeem, code) for code in codes]
        void_statuses = [f.result() for f in voids]
        sale_statuses = [f.result() for f in sales]
    assert void_statuses.count(200) == 1 and void_statuses.count(409) == 15
    assert sale_statuses.count(201) == 8
    assert village.my_points(user)["balance"] == 100 - 8 * 10
    assert _stock(session, item["id"]) == 20 - 8
    assert session.scalar(select(func.count()).select_from(PointsTransaction).where(
        PointsTransaction.kind == "refund")) == 1
    session.rollback()
    result = run_verify(app)
    assert result.exit_code == 0, result.output
