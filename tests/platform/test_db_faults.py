"""PostgreSQL connections dropped (pg_terminate_backend): a request fails cleanly, nothing is
half-written, and the next request succeeds (the pool pre-pings and reconnects)."""

import pytest
import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy import func, select

from backend import create_app
from backend.http import get_session, make_blueprint
from backend.identity.models import Organisation


@pytest.fixture
def pg_app(base_settings):
    if base_settings.is_sqlite:
        pytest.skip("connection drops are a PostgreSQL fault; this runs in the PostgreSQL pass")
    app = create_app(base_settings)
    blp = make_blueprint("dbfault", __name__, "test only")

    @blp.route("/half-then-drop")
    class HalfThenDrop(MethodView):
        def post(self):
            db = get_session()
            db.add(Organisation(kind="village", name="断线村", region_code="430104"))
            db.flush()  # the row is written inside the transaction...
            db.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))  # ...then the link dies
            db.commit()
            return {"ok": True}

    app.extensions["smorest_api"].register_blueprint(blp, url_prefix="/api/v1")
    yield app
    app.extensions["engine"].dispose()


def _terminate_others(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        killed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    engine.dispose()
    return killed


def test_a_connection_dropped_mid_request_fails_cleanly_and_writes_nothing(pg_app, factory, session):
    client = pg_app.test_client()
    dropped = client.post("/api/v1/half-then-drop")
    assert dropped.status_code == 503
    assert dropped.content_type == "application/problem+json"
    assert dropped.json["code"] == "dependency_unavailable" and dropped.json["part"] == "database"
    user = factory.user("resident")
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200  # the next one succeeds
    assert session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == "断线村")) == 0
    session.rollback()
    verified = pg_app.test_cli_runner().invoke(args=["points", "verify"])
    assert verified.exit_code == 0, verified.output


def test_connections_dropped_between_requests_are_replaced_by_the_pre_ping(pg_app, factory, base_settings):
    client = pg_app.test_client()
    user = factory.user("resident")
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200  # the pool holds a connection
    assert _terminate_others(base_settings.database_url) >= 1
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200
    assert client.post("/api/v1/me/qr-codes", headers=user.headers).status_code == 201
