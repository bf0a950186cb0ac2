"""A disabled account: every token it holds stops working at once, on every kind of route."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend.errors import AppError
from tests.factories import Factory


def _cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["users", "disable", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_disabled_account_gets_401_everywhere_and_can_be_enabled_again(app: Flask, client: FlaskClient,
                                                                          factory: Factory) -> None:
    village = factory.org("village")
    user = factory.user("clerk", village, verified=True)  # a verified resident who also works for a village
    routes = ["/api/v1/me",  # token_required: the profile query is the account read
              "/api/v1/me/credit",  # token_required: the standing query is the account read
              "/api/v1/me/points",  # login_required
              f"/api/v1/villages/{village.id}/rules"]  # roles loaded with the account
    assert [client.get(path, headers=user.headers).status_code for path in routes] == [200] * len(routes)

    assert "disabled" in _cli(app, "--phone", user.phone)
    responses = [client.get(path, headers=user.headers) for path in routes]
    assert [r.status_code for r in responses] == [401] * len(routes)
    assert {r.json["code"] for r in responses} == {"unauthorized"}
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refresh.status_code == 401
    login = client.post("/api/v1/auth/login", json={"phone": user.phone, "password": user.password})
    assert login.status_code == 401 and login.json["code"] == "account_disabled"

    assert "enabled" in _cli(app, "--phone", user.phone, "--enable")
    login = client.post("/api/v1/auth/login", json={"phone": user.phone, "password": user.password})
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.json['access_token']}"}
    assert [client.get(path, headers=fresh).status_code for path in routes] == [200] * len(routes)


def test_disabling_an_unknown_phone_fails(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "disable", "--phone", "13900000000"])
    assert result.exit_code != 0


def test_a_disabled_residents_live_codes_stop_working(app: Flask, client: FlaskClient, factory: Factory,
                                                       session) -> None:
    """A code shown before the account was disabled opens no benefit, store sale or visit afterwards."""
    from backend.qr import service as qr_service
    from tests.points.conftest import make_village

    village = make_village(client, factory)
    session.rollback()
    resident, _ = village.add_resident()
    neighbour, _ = village.add_resident()
    village.rule("help", 50)
    for rid in village.residents.values():
        village.award(rid, "help")
    item = village.item(price=10, stock=10)
    codes = [village.code(resident) for _ in range(3)]
    other = village.code(neighbour)

    said = _cli(app, "--phone", resident.phone)
    # the embedded Redis (no REDIS_URL) is per process: the command tells what it cannot reach
    assert ("REDIS_URL is unset" in said) == (not app.extensions["settings"].redis_url)
    redis = app.extensions["redis"]
    sale = client.post(village.url("/store-redemptions"), json={"code": codes[0], "item_id": item["id"]},
                       headers=village.cashier.headers)
    assert sale.status_code == 410 and sale.json["code"] == "qr_expired"
    assert qr_service.live_codes(redis=redis, person_id=resident.person_id or "") == []
    for code in codes[1:]:  # a merchant's scan and a hospital's visit peek or consume the same way
        with pytest.raises(AppError) as refused:
            qr_service.peek(redis=redis, code=code)
        assert refused.value.code == "qr_expired"
    # another resident's code is untouched
    assert client.post(village.url("/store-redemptions"), json={"code": other, "item_id": item["id"]},
                       headers=village.cashier.headers).status_code == 201
