"""Shared fixtures: one app per test session on the backend chosen by the environment.

- No DATABASE_URL: a SQLite file per xdist worker, fake Redis in process.
- DATABASE_URL=postgresql+psycopg://.../test: a database per xdist worker
  (``test_gw0``...) created from it; REDIS_URL: a Redis db per worker.

The schema is built by ``alembic upgrade head`` (never create_all). After each
test every table except reference data (``info={"reference": True}``, seeded by
migrations) is emptied and Redis flushed, so tests may commit freely and use
real threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from backend import create_app
from backend.config import Settings, load_settings
from backend.schema import alembic_config, metadata
from tests.factories import Factory

TEST_SECRETS = {
    "jwt_secret": "test-jwt-secret-0123456789abcdef0123456789",
    "pii_key": "11" * 32,
    "argon2_time_cost": 1,
    "argon2_memory_cost_kib": 1024,
}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _worker_index() -> int:
    return int(_worker().removeprefix("gw") or 0)


def _postgres_url(base: str) -> str:
    """A database of this worker's own on the server of ``base`` (created if missing)."""
    url = sa.engine.make_url(base)
    name = f"{url.database}_{_worker()}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _redis_url(base: str) -> str:
    url = sa.engine.make_url(base.replace("redis://", "postgresql://"))  # reuse URL parsing
    db = (int(url.database or 0) + _worker_index()) % 16
    return f"redis://{url.host or '127.0.0.1'}:{url.port or 6379}/{db}"


def reset_database(database_url: str) -> None:
    """Drop everything, then build the schema with the migrations."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    command.upgrade(alembic_config(database_url), "heads")


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url:
        database_url = _postgres_url(database_url)
    else:
        database_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if redis_url:
        redis_url = _redis_url(redis_url)
    settings = load_settings(
        environ={},
        database_url=database_url,
        redis_url=redis_url,
        ratelimit_key_prefix=f"rl-test-{_worker()}",
        log_level="WARNING",
        **TEST_SECRETS,
    )
    reset_database(settings.database_url)
    return settings


@pytest.fixture(scope="session")
def app(base_settings: Settings) -> Iterator[Flask]:
    application = create_app(base_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["engine"].dispose()


def _reference_tables() -> list[sa.Table]:
    return [t for t in metadata().sorted_tables if t.info.get("reference")]


def _read_reference(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in _reference_tables()}


def _clean_tables(engine: sa.Engine, reference: dict[str, list[tuple[Any, ...]]]) -> None:
    """Empty every table but reference data; put reference data back as the migrations left it
    if a test changed it (an admin endpoint may add or edit scenarios, models...)."""
    tables = [t for t in reversed(metadata().sorted_tables) if not t.info.get("reference")]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            if names:
                conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())
        if _read_reference(conn) != reference:
            for table in reversed(_reference_tables()):
                conn.execute(table.delete())
            for table in _reference_tables():
                rows = reference[table.name]
                if rows:
                    conn.execute(table.insert(), [dict(zip(table.columns.keys(), row, strict=True)) for row in rows])


@pytest.fixture(scope="session")
def reference_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """The reference data exactly as the migrations seeded it."""
    with app.extensions["engine"].connect() as conn:
        return _read_reference(conn)


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" in request.fixturenames:
        application: Flask = request.getfixturevalue("app")
        _clean_tables(application.extensions["engine"], request.getfixturevalue("reference_rows"))
        application.extensions["redis"].flushdb()
        application.extensions["rate_limiter"].reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def settings(app: Flask) -> Settings:
    return app.extensions["settings"]  # type: ignore[no-any-return]


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    db = app.extensions["session_factory"]()
    yield db
    db.rollback()
    db.close()


@pytest.fixture
def postgresql_only(settings: Settings) -> None:
    """For what exists only on PostgreSQL (its PL/pgSQL functions): skipped in the SQLite pass,
    run in the PostgreSQL pass (mandatory under CI=true)."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL only: runs in the suite's PostgreSQL pass")


@pytest.fixture
def redis(app: Flask) -> Any:
    return app.extensions["redis"]


@pytest.fixture
def factory(app: Flask, session: Session) -> Factory:
    return Factory(session=session, settings=app.extensions["settings"])


@pytest.fixture
def login_as(factory: Factory) -> Any:
    """``login_as(role, org)`` -> auth headers of a new account with that role in ``org``;
    ``login_as("resident")`` a verified resident, ``login_as("admin")`` a platform admin."""

    def _login(role: str = "resident", org: Any = None, **kwargs: Any) -> dict[str, str]:
        return factory.user(role, org, **kwargs).headers

    return _login
