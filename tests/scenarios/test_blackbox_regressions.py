"""Regressions found by black-box runs of 信易+ and 信用+医疗: quota rebased from standing redemptions,
retired scenarios, ``used`` for unlimited offers, a visit's line."""

from __future__ import annotations

from tests.scenarios.helpers import API, code_for, make_hospital, make_offer, make_shop, residents


def _redeem(client, shop, resident, offer_id):
    return client.post(f"{shop.base}/redemptions", json={"code": code_for(client, resident), "offer_id": offer_id},
                       headers=shop.cashier.headers)


def _quota(client, shop, offer_id, total):
    response = client.patch(f"{shop.base}/offers/{offer_id}", json={"total_quota": total}, headers=shop.admin.headers)
    assert response.status_code == 200, response.json
    return response.json["remaining_quota"]


def _void(client, shop, redemption_id):
    response = client.post(f"{shop.base}/redemptions/{redemption_id}/void", json={"reason": "误操作"},
                           headers=shop.admin.headers)
    assert response.status_code == 200, response.json


def _benefit(client, resident, offer_id):
    items = client.get(f"{API}/me/benefits", headers=resident.headers).json["items"]
    return next((b for b in items if b["offer"]["id"] == offer_id), None)


def test_a_quota_set_on_an_offer_without_one_counts_the_redemptions_already_made(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    people = residents(factory, 4)
    assert [_redeem(client, shop, p, offer["id"]).status_code for p in people[:2]] == [201, 201]
    assert _quota(client, shop, offer["id"], 3) == 1
    assert _redeem(client, shop, people[2], offer["id"]).status_code == 201
    refused = _redeem(client, shop, people[3], offer["id"])
    assert refused.status_code == 409 and refused.json["code"] == "quota_exhausted"


def test_removing_then_restoring_a_quota_keeps_what_was_used(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, total_quota=5)
    assert _redeem(client, shop, factory.user("resident"), offer["id"]).status_code == 201
    assert _quota(client, shop, offer["id"], None) is None
    assert _quota(client, shop, offer["id"], 5) == 4
    assert client.get(f"{shop.base}/offers/{offer['id']}").json["remaining_quota"] == 4


def test_a_void_under_a_lowered_quota_gives_back_no_place_that_is_not_there(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, total_quota=2)
    people = residents(factory, 3)
    made = [_redeem(client, shop, p, offer["id"]) for p in people[:2]]
    assert [r.status_code for r in made] == [201, 201]
    assert _quota(client, shop, offer["id"], 1) == 0
    _void(client, shop, made[0].json["id"])
    assert client.get(f"{shop.base}/offers/{offer['id']}").json["remaining_quota"] == 0  # one standing fills 1
    refused = _redeem(client, shop, people[2], offer["id"])
    assert refused.status_code == 409 and refused.json["code"] == "quota_exhausted"


def _retirable_scenario(client, admin, code="test_bb_retired"):
    created = client.post(f"{API}/scenarios", json={"code": code, "name": "黑盒场景", "description": "测试"},
                          headers=admin)
    assert created.status_code == 201, created.json
    return code


def _set_scenario(client, admin, code, active):
    response = client.patch(f"{API}/scenarios/{code}", json={"active": active}, headers=admin)
    assert response.status_code == 200 and response.json["active"] is active, response.json


def test_no_new_offer_under_a_retired_scenario(client, factory, login_as) -> None:
    admin = login_as("admin")
    code = _retirable_scenario(client, admin)
    _set_scenario(client, admin, code, False)
    shop = make_shop(factory)
    response = client.post(f"{shop.base}/offers", json={"scenario": code, "title": "t", "benefit": "b",
                                                        "min_level": "A"}, headers=shop.admin.headers)
    assert response.status_code == 409 and response.json["code"] == "scenario_retired"


def test_a_retired_scenarios_offers_leave_listings_the_counter_and_the_statistics(client, factory, login_as) -> None:
    admin = login_as("admin")
    code = _retirable_scenario(client, admin)
    shop = make_shop(factory)
    retired = make_offer(client, shop, scenario=code)
    live = make_offer(client, shop, scenario="public_bikes")
    resident = factory.user("resident")
    _set_scenario(client, admin, code, False)
    assert {o["id"] for o in client.get(f"{API}/offers").json["items"]} == {live["id"]}
    assert client.get(f"{API}/offers?scenario={code}").json["items"] == []
    assert _benefit(client, resident, retired["id"]) is None
    assert _benefit(client, resident, live["id"])["eligible"] is True
    scan = client.post(f"{shop.base}/scans", json={"code": code_for(client, resident)},
                       headers=shop.cashier.headers)
    assert scan.status_code == 200
    assert [o["id"] for o in scan.json["offers"]] == [live["id"]] and scan.json["not_eligible"] == []
    stats = {i["code"]: i for i in client.get(f"{API}/scenario-stats", headers=admin).json["items"]}
    assert stats[code]["live_offers"] == 0 and stats[code]["live"] is False
    refused = _redeem(client, shop, resident, retired["id"])
    assert refused.status_code == 403
    assert refused.json["code"] == "not_eligible" and refused.json["reason"] == "offer_inactive"


def test_reviving_a_scenario_brings_its_offers_back(client, factory, login_as) -> None:
    admin = login_as("admin")
    code = _retirable_scenario(client, admin)
    shop = make_shop(factory)
    offer = make_offer(client, shop, scenario=code)
    resident = factory.user("resident")
    _set_scenario(client, admin, code, False)
    assert _redeem(client, shop, resident, offer["id"]).json["reason"] == "offer_inactive"
    _set_scenario(client, admin, code, True)
    assert [o["id"] for o in client.get(f"{API}/offers?scenario={code}").json["items"]] == [offer["id"]]
    assert _benefit(client, resident, offer["id"])["eligible"] is True
    stats = {i["code"]: i for i in client.get(f"{API}/scenario-stats", headers=admin).json["items"]}
    assert stats[code]["live_offers"] == 1
    assert _redeem(client, shop, resident, offer["id"]).status_code == 201


def test_used_counts_standing_redemptions_of_an_offer_without_a_per_person_limit(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    resident = factory.user("resident")
    made = [_redeem(client, shop, resident, offer["id"]) for _ in range(2)]
    assert [r.status_code for r in made] == [201, 201]
    benefit = _benefit(client, resident, offer["id"])
    assert benefit["used"] == 2 and benefit["eligible"] is True
    _void(client, shop, made[0].json["id"])
    assert _benefit(client, resident, offer["id"])["used"] == 1


def test_a_visit_shows_the_line_and_what_is_left_of_it_after_a_charge(client, factory) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")  # level A: the default policy's line is 100,000 fen
    visit = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers)
    assert visit.status_code == 201, visit.json
    charged = client.post(f"{hospital.base}/visits/{visit.json['id']}/charges",
                          json={"amount_fen": 30_000, "item": "检查费"}, headers=hospital.billing.headers)
    assert charged.status_code == 201, charged.json
    shown = client.get(f"{hospital.base}/visits/{visit.json['id']}", headers=hospital.billing.headers)
    assert shown.status_code == 200
    assert (shown.json["line_fen"], shown.json["available_fen"], shown.json["total_fen"]) == (100_000, 70_000, 30_000)


def test_a_merchants_staff_list_its_paused_offers_others_only_see_live_ones(client, factory) -> None:
    merchant = make_shop(factory)
    paused = client.post(f"/api/v1/merchants/{merchant.id}/offers", headers=merchant.admin.headers, json={
        "scenario": "public_bikes", "title": "暂停的优惠", "benefit": "免押金", "min_level": "A", "active": False}).json
    url = f"/api/v1/merchants/{merchant.id}/offers"
    resident = factory.user("resident")
    assert paused["id"] not in [o["id"] for o in client.get(url).json["items"]]
    for staff in (merchant.admin, merchant.cashier):
        listed = client.get(f"{url}?include_inactive=true", headers=staff.headers)
        assert paused["id"] in [o["id"] for o in listed.json["items"]]
    assert client.get(f"{url}?include_inactive=true").status_code == 401
    assert client.get(f"{url}?include_inactive=true", headers=resident.headers).status_code == 404


def test_only_a_platform_admin_lists_retired_scenarios(client, factory) -> None:
    admin, resident = factory.user("admin"), factory.user("resident")
    assert client.post("/api/v1/scenarios", headers=admin.headers,
                       json={"code": "bb_retired_list", "name": "停用场景"}).status_code == 201
    assert client.patch("/api/v1/scenarios/bb_retired_list", headers=admin.headers,
                        json={"active": False}).status_code == 200
    codes = [s["code"] for s in client.get("/api/v1/scenarios").json["items"]]
    assert "bb_retired_list" not in codes
    listed = client.get("/api/v1/scenarios?include_inactive=true", headers=admin.headers)
    assert "bb_retired_list" in [s["code"] for s in listed.json["items"]]
    refused = client.get("/api/v1/scenarios?include_inactive=true", headers=resident.headers)
    assert refused.status_code == 403 and refused.json["code"] == "admin_required"


def test_hospital_staff_list_the_visits_and_put_back_the_policy_they_read(client, factory) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")
    opened = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                         headers=hospital.clinician.headers).json
    for staff in (hospital.admin, hospital.clinician, hospital.billing):
        listed = client.get(f"{hospital.base}/visits?status=open", headers=staff.headers)
        assert [(v["id"], v["status"]) for v in listed.json["items"]] == [(opened["id"], "open")]
        assert listed.json["items"][0]["name_masked"].endswith("*") and resident.id_number not in str(listed.json)
    assert client.get(f"{hospital.base}/visits?status=settled", headers=hospital.billing.headers).json["items"] == []
    other = make_hospital(factory)
    assert client.get(f"{hospital.base}/visits", headers=other.billing.headers).status_code == 404
    policy = client.get(f"{hospital.base}/credit-policy", headers=hospital.admin.headers).json
    policy["repayment_days"] = 20
    put = client.put(f"{hospital.base}/credit-policy", json=policy, headers=hospital.admin.headers)
    assert put.status_code == 200 and put.json["repayment_days"] == 20 and put.json["is_default"] is False


def test_a_visit_shown_again_is_a_look_in_the_patients_query_log(client, factory) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")
    visit = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    before = len(client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"])
    assert client.get(f"{hospital.base}/visits/{visit['id']}", headers=hospital.billing.headers).status_code == 200
    looks = client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]
    assert len(looks) == before + 1 and (looks[0]["org_id"], looks[0]["purpose"]) == (hospital.id, "medical")


def test_a_void_retried_with_its_idempotency_key_gets_the_first_answer(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, total_quota=5)
    resident = factory.user("resident")
    redeemed = client.post(f"{shop.base}/redemptions", json={"code": code_for(client, resident), "offer_id": offer["id"]},
                           headers={**shop.cashier.headers, "Idempotency-Key": "rdm-1"}).json
    url, headers = f"{shop.base}/redemptions/{redeemed['id']}/void", {**shop.admin.headers, "Idempotency-Key": "void-1"}
    first = client.post(url, json={"reason": "误操作"}, headers=headers)
    again = client.post(url, json={"reason": "误操作"}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true" and first.json["status"] == "voided"
    other = client.post(url, json={"reason": "另一个原因"}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert client.get(f"{shop.base}/offers/{offer['id']}").json["remaining_quota"] == 5


def test_a_per_person_limit_cannot_be_added_or_its_period_changed_once_redeemed(client, factory) -> None:
    shop = make_shop(factory)
    resident = factory.user("resident")
    unlimited = make_offer(client, shop)
    daily = make_offer(client, shop, per_person_limit=1, period="day")
    for offer in (unlimited, daily):
        _redeem(client, shop, resident, offer["id"])
    url = f"{shop.base}/offers"
    for offer, change in ((unlimited, {"per_person_limit": 1, "period": "total"}), (daily, {"period": "month"})):
        refused = client.patch(f"{url}/{offer['id']}", json=change, headers=shop.admin.headers)
        assert refused.status_code == 409 and refused.json["code"] == "offer_limit_locked", change
    raised = client.patch(f"{url}/{daily['id']}", json={"per_person_limit": 2}, headers=shop.admin.headers)
    assert raised.status_code == 200 and raised.json["per_person_limit"] == 2  # the count carries on
    assert _redeem(client, shop, resident, daily["id"]).status_code == 201
    third = _redeem(client, shop, resident, daily["id"])
    assert third.status_code == 403 and third.json["reason"] == "limit_reached"
    fresh = make_offer(client, shop)  # nothing redeemed yet: free to set
    assert client.patch(f"{url}/{fresh['id']}", json={"per_person_limit": 1, "period": "total"},
                        headers=shop.admin.headers).status_code == 200


def test_a_settled_visit_shows_no_line_and_is_no_look(client, factory) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")
    visit = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    client.post(f"{hospital.base}/visits/{visit['id']}/charges", json={"amount_fen": 100, "item": "挂号"},
                headers=hospital.billing.headers)
    assert client.post(f"{hospital.base}/visits/{visit['id']}/settle", headers=hospital.billing.headers).status_code == 201
    before = len(client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"])
    shown = client.get(f"{hospital.base}/visits/{visit['id']}", headers=hospital.billing.headers).json
    assert (shown["status"], shown["line_fen"], shown["available_fen"]) == ("settled", None, None)
    assert shown["bill"]["amount_fen"] == 100
    assert len(client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]) == before


def test_a_redeemed_offers_limit_cannot_be_removed_either(client, factory) -> None:
    shop = make_shop(factory)
    resident = factory.user("resident")
    daily = make_offer(client, shop, per_person_limit=1, period="day")
    _redeem(client, shop, resident, daily["id"])
    removed = client.patch(f"{shop.base}/offers/{daily['id']}", json={"per_person_limit": None},
                           headers=shop.admin.headers)
    assert removed.status_code == 409 and removed.json["code"] == "offer_limit_locked"
    assert client.get(f"{shop.base}/offers/{daily['id']}").json["per_person_limit"] == 1
