from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from backend.qr import service as qr_service
from points.models import PointsAccount, StoreItem, StoreRedemption
from tests.points.conftest import make_village, run_verify


def _redeem(village, code, item_id, quantity=1, headers=None, client=None, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return (client or village.client).post(village.url("/store-redemptions"),
                                           json={"code": code, "item_id": item_id, "quantity": quantity},
                                           headers={**(headers or village.cashier.headers), **extra})


def _funded(village, points):
    return _fund_many(village, 1, points)[0]


def _fund_many(village, n, points):
    residents = [village.add_resident() for _ in range(n)]
    code = f"fund{points}"
    if village.client.get(village.url("/rules"), headers=village.admin.headers).json["items"] == []:
        village.rule(code, points)
    awards = village.client.post(village.url("/awards"), json={"items": [
        {"resident_id": rid, "rule_code": code} for _, rid in residents]}, headers=village.clerk.headers).json
    for award in awards["items"]:
        assert village.approve(award["id"]).status_code == 200
    return residents


def _count(session, model):
    value = session.scalar(select(func.count()).select_from(model))
    session.rollback()
    return value


def test_a_redemption_spends_points_takes_stock_and_pays_the_store(app, village, session):
    user, rid = _funded(village, 50)
    item = village.item("大米", price=20, stock=3)
    response = _redeem(village, village.code(user), item["id"], 2)
    assert response.status_code == 201
    assert response.json["points"] == 40 and response.json["balance"] == 10 and response.json["resident_id"] == rid
    assert village.my_points(user)["balance"] == 10 and village.my_points(user)["rating"] == 50  # rating stays
    items = village.client.get(village.url("/store-items"), headers=user.headers).json["items"]
    assert items[0]["stock"] == 1
    store = session.scalars(select(PointsAccount).where(PointsAccount.org_id == village.id,
                                                        PointsAccount.kind == "store")).one()
    assert store.balance == 40
    session.rollback()
    entries = village.client.get("/api/v1/me/points/entries", headers=user.headers).json["items"]
    assert [(e["kind"], e["amount"]) for e in entries] == [("redemption", -40), ("award", 50)]
    assert run_verify(app).exit_code == 0


def test_insufficient_points_is_409_and_the_code_is_used_up(village, session):
    user, _ = _funded(village, 5)
    item = village.item(price=10, stock=3)
    code = village.code(user)
    response = _redeem(village, code, item["id"])
    assert response.status_code == 409 and response.json["code"] == "insufficient_points"
    again = _redeem(village, code, item["id"])
    assert again.status_code == 409 and again.json["code"] == "qr_already_used"
    assert village.my_points(user)["balance"] == 5
    assert session.scalar(select(StoreItem.stock)) == 3  # the stock taken in the failed transaction came back
    session.rollback()


def test_out_of_stock_is_409(village):
    user, _ = _funded(village, 100)
    item = village.item(price=10, stock=1)
    response = _redeem(village, village.code(user), item["id"], 2)
    assert response.status_code == 409 and response.json["code"] == "out_of_stock"
    assert village.my_points(user)["balance"] == 100


def test_expired_and_unknown_codes(village, redis):
    user, _ = _funded(village, 100)
    item = village.item(price=10, stock=5)
    code = village.code(user)
    redis.delete(f"qr:c:{code}", f"qr:e:{code}")  # what expiry leaves behind: only the issued marker
    response = _redeem(village, code, item["id"])
    assert response.status_code == 410 and response.json["code"] == "qr_expired"
    unknown = _redeem(village, "CX1:" + "A" * 26, item["id"])
    assert unknown.status_code == 404 and unknown.json["code"] == "qr_not_found"
    _ = qr_service  # codes come from POST /me/qr-codes, as a phone would get them


def test_a_resident_of_another_village_cannot_spend_here(client, factory, village, session):
    other = make_village(client, factory)
    session.rollback()
    user, _ = _funded(other, 100)
    item = village.item(price=10, stock=5)
    response = _redeem(village, village.code(user), item["id"])
    assert response.status_code == 404 and response.json["code"] == "resident_not_found"
    foreign_item = other.item(price=10, stock=5)
    response = _redeem(village, village.code(user), foreign_item["id"])
    assert response.status_code == 404 and response.json["code"] == "item_not_found"


def test_only_cashiers_redeem_and_only_admins_stock_the_store(village):
    user, _ = _funded(village, 100)
    item = village.item(price=10, stock=5)
    assert _redeem(village, village.code(user), item["id"], headers=village.clerk.headers).status_code == 403
    assert village.client.post(village.url("/store-items"), json={"name": "x", "price": 1, "stock": 1},
                               headers=village.cashier.headers).status_code == 403
    bad = village.client.post(village.url("/store-items"), json={"name": "x", "price": 0, "stock": 1},
                              headers=village.admin.headers)
    assert bad.status_code == 422


def test_restock_adds_to_the_stock(village):
    item = village.item(price=10, stock=1)
    response = village.client.patch(village.url(f"/store-items/{item['id']}"), json={"restock": 4, "price": 12},
                                    headers=village.admin.headers)
    assert response.status_code == 200 and response.json["stock"] == 5 and response.json["price"] == 12


def test_a_retired_item_leaves_the_shelf_but_can_be_found_and_revived(village):
    item = village.item("旧毛巾", price=3, stock=2)
    url = village.url("/store-items")
    assert village.client.patch(f"{url}/{item['id']}", json={"active": False},
                                headers=village.admin.headers).status_code == 200
    assert village.client.get(url, headers=village.admin.headers).json["items"] == []
    listed = village.client.get(url, query_string={"include_inactive": "true"}, headers=village.admin.headers)
    assert [(i["id"], i["active"]) for i in listed.json["items"]] == [(item["id"], False)]
    assert village.client.patch(f"{url}/{item['id']}", json={"active": True},
                                headers=village.admin.headers).json["active"] is True


def test_restocking_stops_at_the_stock_limit_and_changes_nothing(village, session):
    from points.service.store import MAX_STOCK

    item = village.item(price=10, stock=1_000_000)
    session.execute(update(StoreItem).where(StoreItem.id == item["id"]).values(stock=MAX_STOCK - 5))
    session.commit()
    url = village.url(f"/store-items/{item['id']}")
    over = village.client.patch(url, json={"restock": 6, "price": 11}, headers=village.admin.headers)
    assert over.status_code == 422 and over.json["code"] == "stock_too_large" and over.json["max_stock"] == MAX_STOCK
    assert session.scalar(select(StoreItem.price).where(StoreItem.id == item["id"])) == 10  # the price stayed too
    session.rollback()
    full = village.client.patch(url, json={"restock": 5}, headers=village.admin.headers)
    assert full.status_code == 200 and full.json["stock"] == MAX_STOCK


def test_a_retried_redemption_returns_the_first_response_and_posts_once(village, session):
    user, _ = _funded(village, 100)
    item = village.item(price=10, stock=5)
    code = village.code(user)
    first = _redeem(village, code, item["id"], key="redeem-1")
    second = _redeem(village, code, item["id"], key="redeem-1")
    assert first.status_code == second.status_code == 201
    assert second.json == first.json and second.headers.get("Idempotent-Replayed") == "true"
    assert _count(session, StoreRedemption) == 1
    assert village.my_points(user)["balance"] == 90


def test_64_concurrent_redemptions_never_overdraw(app, village, session):
    user, rid = _funded(village, 100)
    item = village.item(price=10, stock=1000)
    codes = [village.code(user) for _ in range(64)]

    def redeem(code):
        return _redeem(village, code, item["id"], client=app.test_client(), key=f"k-{code[-8:]}").status_code

    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(redeem, codes))
    assert statuses.count(201) == 10 and statuses.count(409) == 54
    assert village.my_points(user)["balance"] == 0
    assert _count(session, StoreRedemption) == 10
    assert session.scalar(select(func.min(PointsAccount.balance)).where(PointsAccount.id == rid)) == 0
    session.rollback()
    result = run_verify(app)
    assert result.exit_code == 0, result.output


def test_64_concurrent_redemptions_of_a_stock_of_5_sell_exactly_5(app, village, session):
    item = village.item(price=10, stock=5)
    residents = [user for user, _ in _fund_many(village, 64, 10)]
    codes = [village.code(user) for user in residents]

    def redeem(code):
        return _redeem(village, code, item["id"], client=app.test_client()).status_code

    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(redeem, codes))
    assert statuses.count(201) == 5 and statuses.count(409) == 59
    assert session.scalar(select(StoreItem.stock).where(StoreItem.id == item["id"])) == 0
    session.rollback()
    assert run_verify(app).exit_code == 0


def test_verify_fails_when_a_balance_is_corrupted(app, village, session):
    user, rid = _funded(village, 30)
    assert run_verify(app).exit_code == 0
    session.execute(update(PointsAccount).where(PointsAccount.id == rid).values(balance=PointsAccount.balance + 1))
    session.commit()
    result = run_verify(app)
    assert result.exit_code != 0
    assert rid in result.output and "balance 31 but entries sum to 30" in result.output


def test_verify_fails_when_a_rating_is_corrupted(app, village, session):
    _, rid = _funded(village, 30)
    session.execute(update(PointsAccount).where(PointsAccount.id == rid).values(rating=0))
    session.commit()
    result = run_verify(app)
    assert result.exit_code != 0 and "rating 0 but award entries sum to 30" in result.output


def test_staff_list_the_stores_sales_by_day_with_masked_names(village) -> None:
    user, rid = village.add_resident()
    village.rule("volunteer", 100)
    village.award(rid, "volunteer")
    item = village.item("肥皂", price=10)
    sold = village.client.post(village.url("/store-redemptions"), json={"code": village.code(user),
                                                                        "item_id": item["id"], "quantity": 2},
                               headers={**village.cashier.headers, "Idempotency-Key": "sale-1"})
    assert sold.status_code == 201, sold.json
    for staff in (village.cashier, village.admin):
        listed = village.client.get(village.url("/store-redemptions"), headers=staff.headers)
        assert listed.status_code == 200
        [sale] = listed.json["items"]
        assert (sale["id"], sale["item_name"], sale["quantity"], sale["points"]) == (sold.json["id"], "肥皂", 2, 20)
        assert sale["resident_name_masked"].endswith("*") and sale["cashier_id"] == village.cashier.account.id
    assert village.client.get(village.url("/store-redemptions"), headers=village.clerk.headers).status_code == 403
    assert village.client.get(village.url("/store-redemptions"), headers=user.headers).status_code in (403, 404)
    long_ago = village.client.get(village.url("/store-redemptions?from=2020-01-01&to=2020-01-31"),
                                  headers=village.admin.headers)
    assert long_ago.status_code == 200 and long_ago.json["items"] == []
    bad = village.client.get(village.url("/store-redemptions?from=2026-02-01&to=2026-01-01"),
                             headers=village.admin.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_date_range"
