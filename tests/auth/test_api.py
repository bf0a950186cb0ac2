import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from tests.factories import PASSWORD, new_phone


def register(client, phone, password=PASSWORD):
    return client.post("/api/v1/auth/register", json={"phone": phone, "password": password})


def login(client, phone, password=PASSWORD, **kw):
    return client.post("/api/v1/auth/login", json={"phone": phone, "password": password}, **kw)


def test_register_login_and_read_me(client):
    phone = new_phone()
    created = register(client, phone)
    assert created.status_code == 201 and created.json["id"].startswith("acc_")
    assert "password" not in created.json and "password_hash" not in created.json
    tokens = login(client, phone).json
    assert tokens["expires_in"] == 900 and tokens["token_type"] == "Bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json["phone"] == phone and me.json["verified"] is False


@pytest.mark.parametrize("password", ["password", "12345678", "qwertyuiop", "13800001111", "abcd1234",
                                      # built from the phone, yet strong to zxcvbn
                                      "a13800001111!", "13800001111#2026", "00001111Abcd", "Zq#3800001v"])
def test_weak_passwords_are_refused(client, password):
    response = register(client, "13800001111", password)
    assert response.status_code == 422 and response.json["code"] == "weak_password"


def test_short_passwords_are_weak_and_say_the_minimum(client):
    for short in ("Sh0rt!", "Ab#1xyz"):  # 6 and 7 characters
        response = register(client, "13800001111", short)
        assert response.status_code == 422 and response.json["code"] == "weak_password"
        assert response.json["min_length"] == 8
    assert register(client, "13800001111", "").json["code"] == "validation_failed"


def test_a_taken_phone_is_409(client):
    phone = new_phone()
    register(client, phone)
    assert register(client, phone).json["code"] == "phone_taken"


def test_20_concurrent_registrations_of_one_phone_give_one_201_and_409s(app):
    phone = new_phone()

    def attempt(_):
        return register(app.test_client(), phone).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert statuses.count(201) == 1
    assert statuses.count(409) == 19


def test_wrong_password_and_unknown_phone_are_the_same_401(client):
    phone = new_phone()
    register(client, phone)
    wrong = login(client, phone, "Wrong#Passw0rd-1")
    unknown = login(client, new_phone())
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["code"] == unknown.json["code"] == "invalid_credentials"


def test_failed_logins_are_rate_limited_per_phone_with_retry_after(client):
    phone = new_phone()
    register(client, phone)
    attempts = [login(client, phone, "Wrong#Passw0rd-1") for _ in range(6)]
    assert [a.status_code for a in attempts] == [401] * 5 + [429]
    # the limit's figures on every answer, but a wait only where waiting helps (not on a 401)
    assert attempts[0].headers["X-RateLimit-Limit"] and "Retry-After" not in attempts[0].headers
    blocked = login(client, phone)  # even the right password waits
    assert blocked.status_code == 429 and blocked.json["code"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) > 0
    other = new_phone()
    register(client, other)
    assert login(client, other).status_code == 200  # another phone is not blocked


def test_the_per_phone_limit_holds_for_wrong_passwords_sent_in_parallel(app):
    """Failures are counted after the response: without serialising a phone's attempts, a burst of
    25 would all be tried. At most 5 may be; the rest wait (429) for the one in flight or the limit."""
    client = app.test_client()
    phone = new_phone()
    register(client, phone)
    barrier = threading.Barrier(25)

    def attempt(i):
        own = app.test_client()
        barrier.wait()
        return login(own, phone, f"Wrong#Passw0rd-{i}").status_code

    with ThreadPoolExecutor(25) as pool:
        statuses = list(pool.map(attempt, range(25)))
    assert 1 <= statuses.count(401) <= 5 and statuses.count(401) + statuses.count(429) == 25, statuses
    assert login(client, phone).status_code in (200, 429)  # one attempt at a time, nothing left stuck
    for _ in range(5 - statuses.count(401)):
        login(client, phone, "Wrong#Passw0rd-x")
    assert login(client, phone).status_code == 429  # five failures in all: even the right password waits


def test_failed_logins_are_rate_limited_per_ip(client, settings):
    limit = int(settings.login_limit_per_ip.split()[0])
    for _ in range(limit):
        login(client, new_phone(), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    blocked = login(client, new_phone(), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert blocked.status_code == 429
    assert login(client, new_phone(), environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_whole_family(client):
    phone = new_phone()
    register(client, phone)
    first = login(client, phone).json["refresh_token"]
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200
    newest = second.json["refresh_token"]
    assert newest != first
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401 and reused.json["code"] == "refresh_token_reused"
    # the thief's reuse killed the newest token too
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": newest})
    assert after.status_code == 401


def test_logout_revokes_the_refresh_family(client):
    phone = new_phone()
    register(client, phone)
    tokens = login(client, phone).json
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                       headers=headers).status_code == 204
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401 and again.json["code"] == "refresh_token_revoked"


def test_unknown_refresh_token_is_401(client):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    assert response.status_code == 401 and response.json["code"] == "invalid_refresh_token"


def _claims(settings, account_id, **changes):
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": account_id,
              "iat": now, "exp": now + 600, "typ": "access"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("expired", "token_expired"),
        ("wrong_audience", "unauthorized"),
        ("wrong_issuer", "unauthorized"),
        ("forged", "unauthorized"),
        ("alg_none", "unauthorized"),
        ("no_exp", "unauthorized"),
        ("refresh_typ", "unauthorized"),
        ("garbage", "unauthorized"),
    ],
)
def test_bad_access_tokens_are_401(client, factory, settings, case, code):
    user = factory.user("account")
    secret = settings.jwt_secret
    tokens = {
        "expired": jwt.encode(_claims(settings, user.id, exp=1, iat=0), secret, algorithm="HS256"),
        "wrong_audience": jwt.encode(_claims(settings, user.id, aud="other"), secret, algorithm="HS256"),
        "wrong_issuer": jwt.encode(_claims(settings, user.id, iss="other"), secret, algorithm="HS256"),
        "forged": jwt.encode(_claims(settings, user.id), "another-secret-0123456789abcdef0123", algorithm="HS256"),
        "alg_none": jwt.encode(_claims(settings, user.id), None, algorithm="none"),
        "no_exp": jwt.encode(_claims(settings, user.id, exp=None), secret, algorithm="HS256"),
        "refresh_typ": jwt.encode(_claims(settings, user.id, typ="refresh"), secret, algorithm="HS256"),
        "garbage": "not.a.token",
    }
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[case]}"})
    assert response.status_code == 401 and response.json["code"] == code


def test_no_token_is_401(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_token_verified_before_still_expires(client, factory, settings):
    """Verified tokens are remembered (not verified twice); the expiry is checked on every request."""
    import time

    user = factory.user("account")
    expires = int(time.time()) + 2
    token = jwt.encode(_claims(settings, user.id, exp=expires), settings.jwt_secret, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # from the cache
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.json["code"] == "token_expired"
