"""The scenario catalogue (seeded by the migration) and the admins' statistics."""

from __future__ import annotations

from tests.scenarios.helpers import API, code_for, make_offer, make_shop


def test_the_migration_seeds_at_least_15_real_scenarios_readable_by_anyone(client) -> None:
    response = client.get(f"{API}/scenarios")
    assert response.status_code == 200
    items = response.json["items"]
    codes = {item["code"] for item in items}
    assert len(items) >= 15
    assert {"medical", "travel", "scenic_spots", "deposit_free_rental", "public_bikes", "library", "parking",
            "sports_venues", "housing_rental", "gov_fast_lane", "public_transport", "elder_care", "education",
            "culture", "utility_deposit"} <= codes
    assert all(item["name"] and item["description"] for item in items)
    assert set(items[0]) >= {"code", "name", "description"}


def test_only_a_platform_admin_adds_a_scenario_and_codes_are_unique(client, login_as) -> None:
    body = {"code": "test_sauna_a", "name": "信易浴", "description": "澡堂免押金"}
    assert client.post(f"{API}/scenarios", json=body).status_code == 401
    assert client.post(f"{API}/scenarios", json=body, headers=login_as("resident")).status_code == 403
    admin = login_as("admin")
    created = client.post(f"{API}/scenarios", json=body, headers=admin)
    assert created.status_code == 201 and created.json["code"] == "test_sauna_a"
    again = client.post(f"{API}/scenarios", json=body, headers=admin)
    assert again.status_code == 409 and again.json["code"] == "scenario_exists"
    bad = client.post(f"{API}/scenarios", json={"code": "Bad Code!", "name": "x"}, headers=admin)
    assert bad.status_code == 422
    retired = client.patch(f"{API}/scenarios/test_sauna_a", json={"active": False}, headers=admin)
    assert retired.status_code == 200 and retired.json["active"] is False
    assert "test_sauna_a" not in {i["code"] for i in client.get(f"{API}/scenarios").json["items"]}
    assert client.get(f"{API}/scenarios/nope").json["code"] == "scenario_not_found"


def test_statistics_count_live_scenarios_offers_and_redemptions_per_month(client, factory, login_as) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, scenario="library")
    make_offer(client, shop, scenario="library", title="第二项")
    make_offer(client, shop, scenario="parking", active=False)
    resident = factory.user("resident")
    for _ in range(2):
        code = code_for(client, resident)
        assert client.post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer["id"]},
                           headers=shop.cashier.headers).status_code == 201
    admin = login_as("admin")
    assert client.get(f"{API}/scenario-stats", headers=login_as("resident")).status_code == 403
    stats = client.get(f"{API}/scenario-stats", headers=admin)
    assert stats.status_code == 200
    by_code = {item["code"]: item for item in stats.json["items"]}
    assert by_code["library"]["live"] is True and by_code["library"]["live_offers"] == 2
    assert by_code["library"]["redemptions"] == 2
    assert by_code["library"]["months"][-1] == {"month": stats.json["to"], "redemptions": 2}
    assert by_code["parking"]["live"] is False
    assert stats.json["live_scenarios"] >= 1
    assert client.get(f"{API}/scenario-stats?from=2026-13", headers=admin).status_code == 422
    assert client.get(f"{API}/scenario-stats?to=9999-12", headers=admin).status_code == 422
    assert client.get(f"{API}/scenario-stats?from=2026-10&to=2026-01", headers=admin).json["code"] == \
        "invalid_month_range"
