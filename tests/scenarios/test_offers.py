"""Merchant offers (write: merchant admin; read: anyone) and a resident's benefits."""

from __future__ import annotations

from tests.scenarios.helpers import API, black_list, make_offer, make_shop, raise_to


def test_a_merchant_admin_publishes_an_offer_with_the_documented_fields(client, factory) -> None:
    shop = make_shop(factory)
    body = {"scenario": "public_bikes", "title": "信用骑行", "benefit": "免押金", "min_level": "AA",
            "red_list_only": False, "per_person_limit": 2, "period": "month", "total_quota": 100,
            "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2099-01-01T00:00:00+08:00"}
    response = client.post(f"{shop.base}/offers", json=body, headers=shop.admin.headers)
    assert response.status_code == 201
    offer = response.json
    assert offer["id"].startswith("ofr_") and offer["scenario"] == "public_bikes"
    assert offer["remaining_quota"] == 100 and offer["period"] == "month" and offer["min_level"] == "AA"
    assert client.get(f"{shop.base}/offers/{offer['id']}").json["title"] == "信用骑行"


def test_offer_writes_need_the_merchant_admin_and_bad_input_is_422(client, factory, login_as) -> None:
    shop = make_shop(factory)
    body = {"scenario": "public_bikes", "title": "t", "benefit": "b", "min_level": "A"}
    assert client.post(f"{shop.base}/offers", json=body, headers=shop.cashier.headers).status_code == 403
    other = make_shop(factory)
    assert client.post(f"{shop.base}/offers", json=body, headers=other.admin.headers).status_code == 404
    hospital = factory.org("hospital")
    assert client.post(f"{API}/merchants/{hospital.id}/offers", json=body,
                       headers=shop.admin.headers).status_code == 404
    cases = [
        {**body, "min_level": "AAAA"}, {**body, "period": "week", "per_person_limit": 1},
        {**body, "per_person_limit": 0}, {**body, "total_quota": -1}, {**body, "total_quota": "10"},
        {**body, "valid_from": "2026-01-01T00:00:00"}, {**body, "surprise": 1}, {"title": "t"},
        {**body, "valid_to": "9999-12-31T23:00:00-08:00"}, {**body, "valid_from": "0001-01-01T00:00:00+00:00"},
    ]
    for case in cases:
        response = client.post(f"{shop.base}/offers", json=case, headers=shop.admin.headers)
        assert response.status_code == 422, case
        assert response.headers["Content-Type"].startswith("application/problem+json")
    unknown = client.post(f"{shop.base}/offers", json={**body, "scenario": "nope"}, headers=shop.admin.headers)
    assert unknown.status_code == 404 and unknown.json["code"] == "scenario_not_found"
    window = client.post(f"{shop.base}/offers", json={**body, "valid_from": "2026-02-01T00:00:00+08:00",
                                                      "valid_to": "2026-01-01T00:00:00+08:00"},
                         headers=shop.admin.headers)
    assert window.status_code == 422 and window.json["code"] == "invalid_validity_window"


def test_public_listing_filters_by_scenario_region_and_merchant(client, factory) -> None:
    shop = make_shop(factory)
    far = factory.org("merchant", region_code="110105")
    far_admin = factory.user("admin", far)
    bikes = make_offer(client, shop, scenario="public_bikes")
    library = make_offer(client, shop, scenario="library")
    make_offer(client, shop, scenario="library", active=False)
    client.post(f"{API}/merchants/{far.id}/offers", json={"scenario": "library", "title": "京", "benefit": "b",
                                                         "min_level": "A"}, headers=far_admin.headers)
    ids = {o["id"] for o in client.get(f"{API}/offers?scenario=library&region=4301").json["items"]}
    assert ids == {library["id"]}
    mine = client.get(f"{shop.base}/offers").json["items"]
    assert {o["id"] for o in mine} == {bikes["id"], library["id"]}
    page = client.get(f"{API}/offers?limit=1")
    assert len(page.json["items"]) == 1 and page.json["next_cursor"]
    assert client.get(f"{API}/offers?region=abc").status_code == 422
    assert client.get(f"{API}/merchants/org_nope/offers").status_code == 404


def test_a_merchant_admin_edits_or_switches_off_an_offer_and_quota_rebases(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, total_quota=5)
    url = f"{shop.base}/offers/{offer['id']}"
    assert client.patch(url, json={"active": False}, headers=shop.cashier.headers).status_code == 403
    changed = client.patch(url, json={"title": "新标题", "total_quota": 8}, headers=shop.admin.headers)
    assert changed.status_code == 200 and changed.json["remaining_quota"] == 8 and changed.json["title"] == "新标题"
    off = client.patch(url, json={"active": False}, headers=shop.admin.headers)
    assert off.json["active"] is False
    other = make_shop(factory)
    assert client.patch(f"{other.base}/offers/{offer['id']}", json={"active": True},
                        headers=other.admin.headers).status_code == 404


def test_my_benefits_show_each_offer_with_eligible_or_the_reason(client, factory, session, settings) -> None:
    shop = make_shop(factory)
    open_offer = make_offer(client, shop, min_level="A")
    aa_offer = make_offer(client, shop, min_level="AA")
    red_offer = make_offer(client, shop, min_level="A", red_list_only=True)
    resident = factory.user("resident")
    response = client.get(f"{API}/me/benefits", headers=resident.headers)
    assert response.status_code == 200
    by_id = {b["offer"]["id"]: b for b in response.json["items"]}
    assert by_id[open_offer["id"]]["eligible"] is True and by_id[open_offer["id"]]["reason"] is None
    assert by_id[aa_offer["id"]]["reason"] == "level_too_low"
    assert by_id[red_offer["id"]]["reason"] == "red_list_only"
    assert by_id[open_offer["id"]]["merchant_name"] == shop.name

    raise_to(session, settings, factory, resident.person_id, "AA")
    by_id = {b["offer"]["id"]: b for b in client.get(f"{API}/me/benefits", headers=resident.headers).json["items"]}
    assert by_id[aa_offer["id"]]["eligible"] is True

    black_list(session, settings, factory, resident.person_id)
    items = client.get(f"{API}/me/benefits", headers=resident.headers).json["items"]
    assert {b["reason"] for b in items} == {"black_listed"}


def test_benefits_need_a_verified_resident(client, login_as) -> None:
    assert client.get(f"{API}/me/benefits").status_code == 401
    assert client.get(f"{API}/me/benefits", headers=login_as("account")).status_code == 403


def test_a_period_without_a_per_person_limit_is_refused_not_dropped(client, factory) -> None:
    from tests.scenarios.helpers import make_shop

    shop = make_shop(factory)
    body = {"scenario": "public_bikes", "title": "免押骑行", "benefit": "免押金", "min_level": "A"}
    refused = client.post(f"{shop.base}/offers", json={**body, "period": "day"}, headers=shop.admin.headers)
    assert refused.status_code == 422 and refused.json["code"] == "period_needs_limit"
    offer = client.post(f"{shop.base}/offers", json=body, headers=shop.admin.headers).json
    patched = client.patch(f"{shop.base}/offers/{offer['id']}", json={"period": "day"}, headers=shop.admin.headers)
    assert patched.status_code == 422 and patched.json["code"] == "period_needs_limit"
    limited = client.patch(f"{shop.base}/offers/{offer['id']}", json={"per_person_limit": 2, "period": "day"},
                           headers=shop.admin.headers)
    assert limited.status_code == 200 and limited.json["period"] == "day"


def test_removing_the_per_person_limit_clears_its_period(client, factory) -> None:
    from tests.scenarios.helpers import make_shop

    shop = make_shop(factory)
    body = {"scenario": "public_bikes", "title": "免押骑行", "benefit": "免押金", "min_level": "A",
            "per_person_limit": 1, "period": "month"}
    offer = client.post(f"{shop.base}/offers", json=body, headers=shop.admin.headers).json
    cleared = client.patch(f"{shop.base}/offers/{offer['id']}", json={"per_person_limit": None},
                           headers=shop.admin.headers)
    assert cleared.status_code == 200 and cleared.json["per_person_limit"] is None and cleared.json["period"] is None
