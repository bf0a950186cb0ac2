"""CLI (`credit recompute`, `credit expire`) and the idempotent demo data."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend import demo as core_demo
from backend.credit import demo as credit_demo
from backend.credit import scoring
from backend.credit.models import CreditRecord, ScoreSnapshot
from tests.credit.conftest import Dept, days_ago, item
from tests.factories import Factory


def test_expire_ends_publicity_periods_and_recomputes(app: Flask, client: FlaskClient, dept: Dept,
                                                      factory: Factory, session: Session) -> None:
    resident = factory.user("resident")
    resp = client.post(dept.batch_url(), json={"records": [
        item("E-1", id_number=resident.id_number, occurred_at=days_ago(120)),
        item("E-2", id_number=resident.id_number, severity="minor", occurred_at=days_ago(100)),
    ]}, headers=dept.headers)
    assert resp.json["created"] == 2
    assert client.get("/api/v1/me/credit", headers=resident.headers).json["score"] == 580  # minor already over

    runner = app.test_cli_runner()
    today = dt.datetime.now(dt.UTC).astimezone(scoring.SHANGHAI).date().isoformat()  # the job counts Beijing days
    out = runner.invoke(args=["credit", "expire", "--as-of", today])
    assert out.exit_code == 0, out.output
    assert "expired 1 record(s)" in out.output
    statuses = {r["source_ref"]: r["status"] for r in
                client.get("/api/v1/me/credit/records", headers=resident.headers).json["items"]}
    assert statuses == {"E-1": "active", "E-2": "expired"}

    # a year on: E-1's publicity has ended (the job refuses a day that has not come, so move the end)
    session.execute(update(CreditRecord).where(CreditRecord.source_ref == "E-1", CreditRecord.source_org_id == dept.id)
                    .values(publicity_end=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    session.commit()
    out = runner.invoke(args=["credit", "expire", "--as-of", today])
    assert "expired 1 record(s)" in out.output
    tomorrow = (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()
    refused = runner.invoke(args=["credit", "expire", "--as-of", tomorrow])
    assert refused.exit_code == 1 and "invalid_as_of" in refused.output
    body = client.get("/api/v1/me/credit", headers=resident.headers).json
    assert body["score"] == 620
    history = client.get("/api/v1/me/credit/history", headers=resident.headers).json["items"]
    assert history[0]["cause"] == "expired"
    assert runner.invoke(args=["credit", "expire", "--as-of", "not-a-date"]).exit_code != 0


def test_recompute_one_or_every_subject(app: Flask, factory: Factory, session: Session) -> None:
    resident = factory.user("resident")
    runner = app.test_cli_runner()
    out = runner.invoke(args=["credit", "recompute", "--subject", resident.person_id])
    assert out.exit_code == 0 and "recomputed 1 subject(s)" in out.output
    out = runner.invoke(args=["credit", "recompute"])
    assert out.exit_code == 0 and "recomputed 1 subject(s)" in out.output
    causes = list(session.scalars(select(ScoreSnapshot.cause).order_by(ScoreSnapshot.id)))
    session.rollback()
    assert causes == ["verified", "recompute", "recompute"]


def test_demo_seed_is_idempotent(app: Flask, session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    world = core_demo.seed(session=session, settings=settings)
    lines = credit_demo.seed(session=session, settings=settings, world=world)
    assert "5 demo record(s)" in lines[0]
    again = credit_demo.seed(session=session, settings=settings, world=world)
    assert "0 demo record(s)" in again[0]
    count = session.scalar(select(func.count()).select_from(CreditRecord))
    session.rollback()
    assert count == 5
