"""Idempotency-Key through a real endpoint that writes (a test-only blueprint)."""

import threading

import pytest
from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import func, select

from backend import create_app
from backend.errors import Conflict
from backend.http import (
    BaseSchema,
    current_actor,
    get_session,
    idempotent,
    login_required,
    make_blueprint,
)
from backend.identity import service as identity_service
from backend.identity.models import Organisation


class BodySchema(BaseSchema):
    name = fields.String(required=True)


class OutSchema(BaseSchema):
    id = fields.String()
    name = fields.String()


gate = threading.Event()
entered = threading.Event()


@pytest.fixture(scope="module")
def idem_app(base_settings):
    app = create_app(base_settings)
    blp = make_blueprint("idem", __name__, "test only")

    @blp.route("/idem")
    class Idem(MethodView):
        @login_required
        @idempotent
        @blp.arguments(BodySchema)
        @blp.response(201, OutSchema)
        def post(self, data):
            current_actor()
            if data["name"] == "slow":
                entered.set()
                gate.wait(5)
            if data["name"] == "refuse":
                raise Conflict("credit_code_taken")
            return identity_service.create_org(session=get_session(), kind="village", name=data["name"],
                                               region_code="430104")

    app.extensions["smorest_api"].register_blueprint(blp, url_prefix="/api/v1")
    yield app
    app.extensions["engine"].dispose()


def count(session, name):
    session.rollback()
    found = session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == name))
    session.rollback()  # end the read: an open SQLite transaction would hold up the next request
    return found


def test_same_key_same_body_replays_the_first_response_and_writes_once(idem_app, factory, session):
    user = factory.user("account")
    client = idem_app.test_client()
    headers = dict(user.headers, **{"Idempotency-Key": "k-1"})
    first = client.post("/api/v1/idem", json={"name": "一村"}, headers=headers)
    second = client.post("/api/v1/idem", json={"name": "一村"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count(session, "一村") == 1


def test_same_key_different_body_is_422(idem_app, factory):
    user = factory.user("account")
    client = idem_app.test_client()
    headers = dict(user.headers, **{"Idempotency-Key": "k-2"})
    client.post("/api/v1/idem", json={"name": "二村"}, headers=headers)
    other = client.post("/api/v1/idem", json={"name": "三村"}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"


def test_keys_are_per_account(idem_app, factory, session):
    client = idem_app.test_client()
    for user in (factory.user("account"), factory.user("account")):
        headers = dict(user.headers, **{"Idempotency-Key": "shared"})
        assert client.post("/api/v1/idem", json={"name": "四村"}, headers=headers).status_code == 201
    assert count(session, "四村") == 2


def test_a_key_in_flight_is_409_request_in_progress(idem_app, factory, session, settings):
    """PostgreSQL: the second request sees the Redis lock and gets 409 at once. SQLite
    serialises transactions (BEGIN IMMEDIATE), so there the second waits: it then finds the
    lock still held (409) or the answer recorded (replay). Either way one write."""
    user = factory.user("account")
    headers = dict(user.headers, **{"Idempotency-Key": "k-slow"})
    gate.clear()
    entered.clear()
    results = {}

    def slow():
        results["first"] = idem_app.test_client().post("/api/v1/idem", json={"name": "slow"}, headers=headers)

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert entered.wait(5), "the first request never reached the view"
        if not settings.is_sqlite:
            second = idem_app.test_client().post("/api/v1/idem", json={"name": "slow"}, headers=headers)
            assert second.status_code == 409 and second.json["code"] == "request_in_progress"
        else:
            waiter = threading.Thread(target=lambda: results.update(
                second=idem_app.test_client().post("/api/v1/idem", json={"name": "slow"}, headers=headers)))
            waiter.start()
    finally:
        gate.set()
        thread.join()
    if settings.is_sqlite:
        waiter.join()
        second = results["second"]
        if second.status_code == 409:  # it got in while the first was still recording its answer
            assert second.json["code"] == "request_in_progress"
        else:
            assert second.json == results["first"].json
            assert second.headers["Idempotent-Replayed"] == "true"
    assert results["first"].status_code == 201
    replay = idem_app.test_client().post("/api/v1/idem", json={"name": "slow"}, headers=headers)
    assert replay.json == results["first"].json and count(session, "slow") == 1


def test_a_definite_error_is_replayed_too(idem_app, factory):
    user = factory.user("account")
    client = idem_app.test_client()
    headers = dict(user.headers, **{"Idempotency-Key": "k-err"})
    first = client.post("/api/v1/idem", json={"name": "refuse"}, headers=headers)
    second = client.post("/api/v1/idem", json={"name": "refuse"}, headers=headers)
    assert first.status_code == second.status_code == 409
    assert second.headers.get("Idempotent-Replayed") == "true"


def test_a_malformed_key_is_422(idem_app, factory):
    user = factory.user("account")
    response = idem_app.test_client().post("/api/v1/idem", json={"name": "x"},
                                           headers=dict(user.headers, **{"Idempotency-Key": "with space"}))
    assert response.status_code == 422 and response.json["code"] == "invalid_idempotency_key"


def test_the_key_is_documented_in_openapi(idem_app):
    spec = idem_app.test_client().get("/openapi.json").json
    params = spec["paths"]["/api/v1/idem"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)


def test_a_key_past_its_24_hours_starts_afresh(idem_app, factory, session):
    import datetime as dt

    from sqlalchemy import update

    from backend.idempotency.models import IdempotencyRecord

    user = factory.user("account")
    client = idem_app.test_client()
    headers = dict(user.headers, **{"Idempotency-Key": "k-old"})
    assert client.post("/api/v1/idem", json={"name": "旧村"}, headers=headers).status_code == 201
    session.execute(update(IdempotencyRecord).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
    session.commit()
    fresh = client.post("/api/v1/idem", json={"name": "新村"}, headers=headers)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert count(session, "新村") == 1
    assert client.post("/api/v1/idem", json={"name": "新村"}, headers=headers).headers["Idempotent-Replayed"] == "true"


def test_purge_deletes_only_records_past_their_24_hours(idem_app, factory, session):
    import datetime as dt

    from sqlalchemy import update

    from backend.idempotency.models import IdempotencyRecord

    user = factory.user("account")
    client = idem_app.test_client()
    for key in ("k-keep", "k-drop"):
        client.post("/api/v1/idem", json={"name": key}, headers=dict(user.headers, **{"Idempotency-Key": key}))
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "k-drop")
                    .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
    session.commit()
    result = idem_app.test_cli_runner().invoke(args=["idempotency", "purge"])
    assert result.exit_code == 0 and "deleted 1" in result.output, result.output
    keys = set(session.scalars(select(IdempotencyRecord.key)))
    session.rollback()
    assert keys == {"k-keep"}


def test_the_response_commits_with_the_write_or_neither_does(idem_app, factory, session, monkeypatch):
    """A failure while storing the response rolls the write back too: a retry then writes once."""
    from backend.idempotency import service as idempotency_service

    user = factory.user("account")
    client = idem_app.test_client()
    headers = dict(user.headers, **{"Idempotency-Key": "k-atomic"})

    def broken_store(**_kwargs):
        raise RuntimeError("the database went away while storing the response")

    with monkeypatch.context() as patch:
        patch.setattr(idempotency_service, "store", broken_store)
        failed = client.post("/api/v1/idem", json={"name": "原子村"}, headers=headers)
    assert failed.status_code == 500
    assert count(session, "原子村") == 0
    retry = client.post("/api/v1/idem", json={"name": "原子村"}, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert count(session, "原子村") == 1


def test_two_requests_past_an_expired_lock_still_write_once(idem_app, factory, session, settings, monkeypatch):
    """If the in-flight marker is lost (it expired mid-request), the unique (scope, key) of the
    stored response stops the second request: its write is rolled back and it replays the first."""
    from backend.idempotency import service as idempotency_service

    monkeypatch.setattr(idempotency_service, "claim", lambda _redis, _name, _ttl: None)
    user = factory.user("account")
    headers = dict(user.headers, **{"Idempotency-Key": "k-lost-lock"})
    gate.clear()
    entered.clear()
    results = {}

    def post(name):
        results[name] = idem_app.test_client().post("/api/v1/idem", json={"name": "slow"}, headers=headers)

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert entered.wait(5), "the first request never reached the view"
    second = threading.Thread(target=post, args=("second",))
    second.start()
    if not settings.is_sqlite:  # SQLite serialises the two transactions
        second.join(timeout=2)  # it reaches the view too and waits at the gate
    gate.set()
    first.join()
    second.join()
    assert [r.status_code for r in results.values()] == [201, 201]
    assert results["first"].json == results["second"].json
    assert count(session, "slow") == 1


def test_a_key_redis_forgot_still_replays_and_writes_once(idem_app, factory, session):
    """The Redis marker is a shortcut: with it gone (Redis restarted empty) the repeated request
    runs, meets the stored answer when it stores its own, rolls back and replays the answer."""
    from backend.idempotency import service as idempotency_service

    user = factory.user("account")
    client = idem_app.test_client()
    headers = dict(user.headers, **{"Idempotency-Key": "k-forgotten"})
    redis = idem_app.extensions["redis"]
    marker = idempotency_service.marker_name(user.id, "k-forgotten")
    first = client.post("/api/v1/idem", json={"name": "忘村"}, headers=headers)
    assert redis.get(marker) == b"a"
    assert redis.delete(marker) == 1
    again = client.post("/api/v1/idem", json={"name": "忘村"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert count(session, "忘村") == 1
    assert redis.delete(marker) == 1
    other = client.post("/api/v1/idem", json={"name": "别村"}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert count(session, "别村") == 0


def test_a_new_key_is_not_looked_up_in_the_database(idem_app, factory):
    """Only a key Redis marks answered is read back; a fresh one costs the stored answer only."""
    from sqlalchemy import event

    user = factory.user("account")
    client = idem_app.test_client()
    engine = idem_app.extensions["engine"]
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        fresh = client.post("/api/v1/idem", json={"name": "新键村"},
                            headers=dict(user.headers, **{"Idempotency-Key": "k-fresh"}))
        fresh_reads = [s for s in seen if s.lstrip().upper().startswith("SELECT") and "idempotency_records" in s]
        seen.clear()
        again = client.post("/api/v1/idem", json={"name": "新键村"},
                            headers=dict(user.headers, **{"Idempotency-Key": "k-fresh"}))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert fresh.status_code == 201 and not fresh_reads
    assert again.headers["Idempotent-Replayed"] == "true"
    assert any("idempotency_records" in s and s.lstrip().upper().startswith("SELECT") for s in seen)
