from tests.points.conftest import make_village


def test_adding_a_resident_opens_one_account_and_is_repeatable(village):
    user, rid = village.add_resident()
    again = village.client.post(village.url("/residents"), json={"phone": user.phone}, headers=village.clerk.headers)
    assert again.status_code == 201 and again.json["id"] == rid
    assert again.json["balance"] == 0 and again.json["stars"] == 1 and again.json["name_masked"] == "张*"
    assert "*" in again.json["phone_masked"] and user.phone not in str(again.json)
    roll = village.client.get(village.url("/residents"), headers=village.approver.headers).json
    assert [r["id"] for r in roll["items"]] == [rid]


def test_only_verified_accounts_join_the_roll(village, factory, session):
    unverified = factory.user("account")
    session.rollback()
    response = village.client.post(village.url("/residents"), json={"phone": unverified.phone},
                                   headers=village.admin.headers)
    assert response.status_code == 422 and response.json["code"] == "resident_not_verified"
    missing = village.client.post(village.url("/residents"), json={"phone": "13912345678"},
                                  headers=village.admin.headers)
    assert missing.status_code == 404 and missing.json["code"] == "account_not_found"
    bad = village.client.post(village.url("/residents"), json={"phone": "12"}, headers=village.admin.headers)
    assert bad.status_code == 422
    assert village.client.post(village.url("/residents"), json={"phone": unverified.phone},
                               headers=village.cashier.headers).status_code == 403


def test_rules_are_written_by_admins_and_read_by_members(village):
    user, _ = village.add_resident()
    created = village.rule("volunteer", 10, limit_per_period=2, period="month", evidence_required=True)
    assert created["limit_per_period"] == 2 and created["period"] == "month" and created["evidence_required"] is True
    listed = village.client.get(village.url("/rules"), headers=user.headers)
    assert listed.status_code == 200 and [r["code"] for r in listed.json["items"]] == ["volunteer"]
    taken = village.client.post(village.url("/rules"), json={"code": "volunteer", "name": "x", "points": 1,
                                                              "category": "志愿服务"}, headers=village.admin.headers)
    assert taken.status_code == 409 and taken.json["code"] == "rule_code_taken"
    assert village.client.post(village.url("/rules"), json={"code": "x", "name": "x", "points": 1, "category": "c"},
                               headers=village.clerk.headers).status_code == 403


def test_bad_rules_are_422(village):
    for body, code in [
        ({"code": "a", "name": "x", "points": 0, "category": "c"}, "invalid_points"),
        ({"code": "a", "name": "x", "points": 5, "category": "c", "limit_per_period": 1}, "invalid_rule_limit"),
        ({"code": "a", "name": "x", "points": 5, "category": "c", "period": "week", "limit_per_period": 1},
         "validation_failed"),
        ({"code": "A B", "name": "x", "points": 5, "category": "c"}, "validation_failed"),
        ({"code": "a", "name": "x", "points": "5", "category": "c"}, "validation_failed"),
        ({"code": "a", "name": "x", "points": 5, "category": "c", "extra": 1}, "validation_failed"),
    ]:
        response = village.client.post(village.url("/rules"), json=body, headers=village.admin.headers)
        assert response.status_code == 422 and response.json["code"] == code, (body, response.json)


def test_a_retired_rule_takes_no_new_awards(village):
    _, rid = village.add_resident()
    village.rule("old", 10)
    response = village.client.patch(village.url("/rules/old"), json={"active": False}, headers=village.admin.headers)
    assert response.status_code == 200 and response.json["active"] is False
    item = village.client.post(village.url("/awards"), json={"items": [{"resident_id": rid, "rule_code": "old"}]},
                               headers=village.clerk.headers).json["items"][0]
    assert item["error"]["code"] == "rule_inactive"
    assert village.client.patch(village.url("/rules/none"), json={"active": False},
                                headers=village.admin.headers).status_code == 404


def test_star_thresholds_are_per_village(village):
    user, rid = village.add_resident()
    village.rule("volunteer", 60)
    village.award(rid, "volunteer")
    assert village.my_points(user)["stars"] == 2
    assert village.client.get(village.url("/star-thresholds"), headers=user.headers).json == {
        "star_thresholds": [0, 50, 100, 200, 400]}
    bad = village.client.put(village.url("/star-thresholds"), json={"star_thresholds": [0, 5, 5, 6, 7]},
                             headers=village.admin.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_star_thresholds"
    ok = village.client.put(village.url("/star-thresholds"), json={"star_thresholds": [0, 10, 20, 40, 60]},
                            headers=village.admin.headers)
    assert ok.status_code == 200
    assert village.my_points(user)["stars"] == 5


def test_my_entries_are_paginated_newest_first(village):
    user, rid = village.add_resident()
    village.rule("volunteer", 1)
    for _ in range(5):
        village.award(rid, "volunteer")
    first = village.client.get("/api/v1/me/points/entries?limit=2", headers=user.headers).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = village.client.get(f"/api/v1/me/points/entries?limit=10&cursor={first['next_cursor']}",
                              headers=user.headers).json
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True) and rest["next_cursor"] is None


def test_members_of_one_village_see_nothing_of_another(client, factory, village, session):
    other = make_village(client, factory)
    session.rollback()
    user, rid = village.add_resident()
    other_user, other_rid = other.add_resident()
    other.rule("volunteer", 10)
    award = other.award(other_rid, "volunteer")
    item = other.item()
    for path in ("/rules", "/awards?status=approved", "/leaderboard?period=2026-11", "/store-items",
                 "/star-thresholds"):
        assert client.get(other.url(path), headers=user.headers).status_code == 404, path
        assert client.get(other.url(path), headers=village.admin.headers).status_code == 404, path
    for path, body, staff in [
        ("/residents", {"phone": user.phone}, village.admin),
        ("/rules", {"code": "x", "name": "x", "points": 1, "category": "c"}, village.admin),
        ("/awards", {"items": [{"resident_id": other_rid, "rule_code": "volunteer"}]}, village.clerk),
        (f"/awards/{award['id']}/reverse", {"reason": "x"}, village.approver),
        ("/store-items", {"name": "x", "price": 1, "stock": 1}, village.admin),
        ("/store-redemptions", {"code": "CX1:" + "A" * 26, "item_id": item["id"]}, village.cashier),
    ]:
        assert client.post(other.url(path), json=body, headers=staff.headers).status_code == 404, path
    # an award or resident of village Y addressed through village X's own path is 404 too
    assert client.post(village.url(f"/awards/{award['id']}/approve"), headers=village.approver.headers).status_code == 404
    assert client.get(village.url(f"/awards/{award['id']}"), headers=village.approver.headers).status_code == 404
    village.rule("volunteer", 10)
    item_x = village.client.post(village.url("/awards"), json={"items": [
        {"resident_id": other_rid, "rule_code": "volunteer"}]}, headers=village.clerk.headers).json["items"][0]
    assert item_x["error"]["code"] == "resident_not_found"
    assert [i["village_id"] for i in client.get("/api/v1/me/points", headers=other_user.headers).json["items"]] == [
        other.id]
    assert client.get(village.url("/rules"), headers=other_user.headers).status_code == 404
    assert rid != other_rid


def test_endpoints_need_a_login(village):
    assert village.client.get(village.url("/rules")).status_code == 401
    assert village.client.get("/api/v1/me/points").status_code == 401
