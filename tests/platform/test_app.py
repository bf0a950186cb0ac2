"""Platform behaviour every endpoint shares: probes, docs, errors, logs, sessions."""

import json
import logging

import pytest
from flask.views import MethodView

from backend import create_app
from backend.config import PROJECT_ROOT
from backend.http import get_session, make_blueprint
from backend.identity.models import Organisation
from tests.factories import PASSWORD, valid_id_number


def test_healthz_and_readyz_answer_ok(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/api/v1/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_names_the_database_when_it_is_down(base_settings, tmp_path):
    broken = create_app(base_settings.with_overrides(database_url=f"sqlite:///{tmp_path}/missing/dir/x.db"))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.json["part"] == "database" and response.headers["Retry-After"]


def test_readyz_names_redis_when_it_is_down(base_settings):
    broken = create_app(base_settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["part"] == "redis"


def test_docs_and_openapi_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json
    assert spec["info"]["title"] == "Credit platform API"
    assert "/api/v1/auth/login" in spec["paths"]


def test_committed_openapi_document_matches_the_generated_one(client):
    committed = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text())
    assert client.get("/openapi.json").json == committed, "run `make openapi` and commit openapi/openapi.json"


def test_every_response_carries_a_request_id_and_security_headers(client):
    response = client.get("/healthz", headers={"X-Request-Id": "req-12345678"})
    assert response.headers["X-Request-Id"] == "req-12345678"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    generated = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["X-Request-Id"]
    assert generated and " " not in generated


@pytest.mark.parametrize(
    ("lang", "title"),
    [(None, "资源不存在"), ("en", "Not found"), ("en-US,en;q=0.9", "Not found"), ("zh-CN,zh;q=0.9", "资源不存在")],
)
def test_errors_are_problem_json_in_the_requested_language(client, lang, title):
    headers = {"Accept-Language": lang} if lang else {}
    response = client.get("/api/v1/no-such-thing", headers=headers)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "not_found" and response.json["title"] == title


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": 13800000000, "password": PASSWORD}, 422, "validation_failed"),
        ({"phone": "13800000000"}, 422, "validation_failed"),
        ({"phone": "13800000000", "password": PASSWORD, "admin": True}, 422, "validation_failed"),
        ([], 422, "validation_failed"),
        ("just a string", 422, "validation_failed"),
        ({"phone": "12345", "password": PASSWORD}, 422, "validation_failed"),
        ({"phone": "13800000000", "password": "1" * 500}, 422, "validation_failed"),
    ],
)
def test_bad_register_bodies_get_a_stable_problem_code(client, body, status, code):
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == status, response.json
    assert response.json["code"] == code


def test_field_messages_come_in_the_requested_language(client):
    body = {"phone": "13800000000", "admin": True}
    zh = client.post("/api/v1/auth/register", json=body).json["errors"]
    assert zh == {"password": ["缺少必填字段。"], "admin": ["未知字段。"]}
    en = client.post("/api/v1/auth/register", json=body, headers={"Accept-Language": "en"}).json["errors"]
    assert en == {"password": ["Missing data for required field."], "admin": ["Unknown field."]}


def test_malformed_json_and_oversize_bodies_are_4xx(client, settings):
    bad = client.post("/api/v1/auth/register", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json["code"] == "malformed_json"
    huge = client.post("/api/v1/auth/register", data="x" * (settings.max_content_length + 10),
                       content_type="application/json")
    assert huge.status_code == 413 and huge.json["code"] == "payload_too_large"


def test_unexpected_errors_are_a_500_problem_without_details(base_settings):
    app = create_app(base_settings)
    blp = make_blueprint("boom", __name__, "test only")

    @blp.route("/boom")
    class Boom(MethodView):
        def get(self):
            raise RuntimeError("secret internals")

    app.extensions["smorest_api"].register_blueprint(blp, url_prefix="/api/v1")
    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_an_uncommitted_write_is_rolled_back_at_request_end(base_settings, session):
    app = create_app(base_settings)
    blp = make_blueprint("half", __name__, "test only")

    @blp.route("/half-write")
    class HalfWrite(MethodView):
        def post(self):
            db = get_session()
            db.add(Organisation(kind="village", name="半途村", region_code="430104"))
            db.flush()  # written inside the transaction, never committed
            return {"ok": True}

    app.extensions["smorest_api"].register_blueprint(blp, url_prefix="/api/v1")
    assert app.test_client().post("/api/v1/half-write").status_code == 200
    from sqlalchemy import select

    assert session.scalars(select(Organisation).where(Organisation.name == "半途村")).first() is None


def test_no_log_line_contains_a_password_token_or_id_number(client, caplog):
    caplog.set_level(logging.DEBUG, logger="backend")
    number = valid_id_number()
    client.post("/api/v1/auth/register", json={"phone": "13912345678", "password": PASSWORD})
    tokens = client.post("/api/v1/auth/login", json={"phone": "13912345678", "password": PASSWORD}).json
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    client.post("/api/v1/me/real-name", json={"name": "赵六", "id_number": number}, headers=headers)
    client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    client.post("/api/v1/auth/login", json={"phone": "13912345678", "password": "wrong-" + PASSWORD})
    text = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "request" in text  # the access log was captured
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"], number):
        assert secret not in text
