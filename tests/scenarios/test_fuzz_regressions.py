"""Regressions found by the contract fuzzer (tests/contract): the OpenAPI document says what the service accepts."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.factories import Factory
from tests.scenarios.helpers import make_offer, make_shop


def test_an_offer_window_is_documented_as_the_years_2000_to_2099_as_written(client: FlaskClient) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    offer_bodies = [name for name, s in schemas.items() if "valid_from" in s.get("properties", {})
                    and "readOnly" not in s["properties"]["valid_from"]]
    assert offer_bodies
    for name in offer_bodies:
        for field in ("valid_from", "valid_to"):
            prop = schemas[name]["properties"][field]
            assert prop["format"] == "date-time" and prop["pattern"] == r"^20\d{2}-", (name, field, prop)


def test_an_offer_window_is_accepted_exactly_when_it_matches_the_documented_pattern(
        client: FlaskClient, factory: Factory) -> None:
    shop = make_shop(factory)
    pattern = re.compile(r"^20\d{2}-")
    # the edges of the pattern, written in time zones that move them across a UTC year boundary
    accepted = ["2000-01-01T00:00:00+08:00", "2099-12-31T23:59:59-10:00"]
    refused = ["1999-12-31T23:00:00-08:00", "2100-01-01T06:00:00+08:00", "0381-06-04T01:14:08Z"]
    for moment in accepted:
        assert pattern.match(moment)
        make_offer(client, shop, valid_from=moment, valid_to="2099-12-31T23:59:59-11:00")
    for moment in refused:
        assert not pattern.match(moment)
        response = client.post(f"{shop.base}/offers", headers=shop.admin.headers,
                               json={"scenario": "public_bikes", "title": "t", "benefit": "b", "min_level": "A",
                                     "valid_from": moment})
        assert response.status_code == 422 and "valid_from" in response.json["errors"], response.json


def test_statistics_have_their_own_path_so_any_scenario_code_stays_readable(client: FlaskClient,
                                                                          login_as) -> None:
    # Statistics once lived at /scenarios/stats, shadowing a scenario coded "stats" and making
    # OPTIONS advertise PATCH there; they moved to /scenario-stats.
    admin = login_as("admin")
    created = client.post("/api/v1/scenarios", json={"code": "stats", "name": "统计", "description": "测试"},
                          headers=admin)
    assert created.status_code == 201, created.json
    assert client.get("/api/v1/scenarios/stats").json["code"] == "stats"
    assert client.get("/api/v1/scenario-stats", headers=admin).status_code == 200
    allow = client.options("/api/v1/scenario-stats").headers["Allow"]
    assert "PATCH" not in allow and "GET" in allow
