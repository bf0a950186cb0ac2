"""The contract fuzz runs against one demo world per worker and module (seeded once, emptied at the end;
the create -> read flows give each of their scenarios a fresh one).

Seeding the demo world takes about a second; doing it for each of the ~110
operations would cost more than the fuzzing itself, so this folder replaces the
per-test cleanup of tests/conftest.py by a module-scoped one. Only the rate
limiter is reset per test, so one operation's 429s never leak into the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from backend import demo as demo_data
from backend.auth import service as auth_service
from backend.commitments import demo as commitments_demo
from backend.credit import demo as credit_demo
from points import demo as points_demo
from scenarios import demo as scenarios_demo
from tests.conftest import _clean_tables


@dataclass
class World:
    orgs: dict[str, str]  # demo org key -> org id
    headers: dict[str, dict[str, str]]  # demo phone -> Authorization header


def seed_world(app: Flask) -> World:
    """Seed the demo world of every domain and give each demo account an access token."""
    settings = app.extensions["settings"]
    session = app.extensions["session_factory"]()
    try:
        seeded = demo_data.seed(session=session, settings=settings, redis=app.extensions["redis"])
        for domain in (credit_demo, points_demo, scenarios_demo, commitments_demo):
            domain.seed(session=session, settings=settings, world=seeded)
        session.commit()
        headers = {}
        for phone, account in seeded.accounts.items():
            pair = auth_service.issue_tokens(session=session, settings=settings, account_id=account.id)
            headers[phone] = {"Authorization": f"Bearer {pair.access_token}"}
        session.commit()
        return World(orgs={key: org.id for key, org in seeded.orgs.items()}, headers=headers)
    finally:
        session.close()


def empty_world(app: Flask, reference_rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Empty the database (reference data as the migrations left it), Redis and the rate limiter."""
    _clean_tables(app.extensions["engine"], reference_rows)
    app.extensions["redis"].flushdb()
    app.extensions["rate_limiter"].reset()


def reseed_world(app: Flask, reference_rows: dict[str, list[tuple[Any, ...]]], world: World) -> None:
    """Start ``world`` afresh, in place (the tests of the module hold this object)."""
    empty_world(app, reference_rows)
    fresh = seed_world(app)
    world.orgs, world.headers = fresh.orgs, fresh.headers


@pytest.fixture(scope="module")
def world(app: Flask, reference_rows: dict[str, list[tuple[Any, ...]]]) -> Iterator[World]:
    # (reference_rows is read before the fuzzing: the platform admin may add, retire or activate
    # scenarios and score models, which the cleanup at the end puts back as the migrations seeded them)
    yield seed_world(app)
    empty_world(app, reference_rows)


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Overrides the per-test cleanup: the world lives for the module (see above)."""
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions["rate_limiter"].reset()
