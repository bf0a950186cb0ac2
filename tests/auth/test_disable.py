"""A disabled account: every token it holds stops working at once, on every kind of route."""

from flask import Flask
from flask.testing import FlaskClient

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
