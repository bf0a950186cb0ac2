"""Score model versions (platform admin), enterprise grades and graded supervision."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, update

from backend.credit.models import ScoreModel
from backend.credit.scoring import DEFAULT_PERSON_MODEL
from backend.identity.models import Organisation
from tests.credit.conftest import Dept, item
from tests.factories import Factory

SEEDED = ("person-2026.1", "enterprise-2026.1")


@pytest.fixture
def restore_models(app: Flask) -> Iterator[None]:
    """Score models are reference data kept between tests: put the seeded ones back."""
    yield
    with app.extensions["session_factory"]() as db:
        db.execute(delete(ScoreModel).where(ScoreModel.version.not_in(SEEDED)))
        db.execute(update(ScoreModel).values(active=True))
        db.commit()


def test_admin_adds_and_activates_a_model_version_and_scores_say_which(
        client: FlaskClient, factory: Factory, restore_models: None) -> None:
    admin = factory.user("admin")
    resident = factory.user("resident")
    params = copy.deepcopy(DEFAULT_PERSON_MODEL)
    params["identity"]["verified"] = 50
    resp = client.post("/api/v1/credit/models", json={"version": "person-2027.1", "params": params,
                                                      "note": "实名加分提高"}, headers=admin.headers)
    assert resp.status_code == 201 and resp.json["active"] is False
    assert client.get("/api/v1/me/credit", headers=resident.headers).json["model_version"] == "person-2026.1"
    dup = client.post("/api/v1/credit/models", json={"version": "person-2027.1", "params": params},
                      headers=admin.headers)
    assert dup.status_code == 409 and dup.json["code"] == "model_exists"

    act = client.post("/api/v1/credit/models/person-2027.1/activate", headers=admin.headers)
    assert act.status_code == 200 and act.json["active"] is True
    body = client.get("/api/v1/me/credit", headers=resident.headers).json
    assert (body["score"], body["model_version"]) == (650, "person-2027.1")
    listed = {m["version"]: m["active"] for m in client.get("/api/v1/credit/models", headers=admin.headers).json["items"]}
    assert listed["person-2026.1"] is False and listed["person-2027.1"] is True
    assert client.post("/api/v1/credit/models/nope/activate", headers=admin.headers).status_code == 404


def test_invalid_model_parameters_and_non_admins_are_refused(client: FlaskClient, factory: Factory) -> None:
    admin = factory.user("admin")
    resident = factory.user("resident")
    bad = client.post("/api/v1/credit/models", json={"version": "p-bad", "params": {"base": 600}},
                      headers=admin.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_model"
    body = {"version": "p-x", "params": DEFAULT_PERSON_MODEL}
    assert client.post("/api/v1/credit/models", json=body, headers=resident.headers).status_code == 403
    assert client.post("/api/v1/credit/models/person-2026.1/activate", headers=resident.headers).status_code == 403


def test_enterprise_grade_for_its_admin_and_department_officers_only(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    enterprise = factory.org("enterprise")
    ent_id, code = enterprise.id, enterprise.credit_code
    owner = factory.user("admin", enterprise)
    stranger = factory.user("resident")
    other_ent = factory.org("enterprise")
    other_admin = factory.user("admin", other_ent)
    merchant_admin = factory.user("admin", factory.org("merchant"))
    url = f"/api/v1/enterprises/{ent_id}/credit"
    fresh = client.get(url, headers=owner.headers)
    assert fresh.status_code == 200
    assert (fresh.json["score"], fresh.json["grade"], fresh.json["level_name"]) == (80, "B", "信用良好")
    client.post(dept.batch_url(), json={"records": [
        item("G-1", credit_code=code, severity="serious"),
        item("G-2", credit_code=code, severity="general"),
    ]}, headers=dept.headers)
    graded = client.get(url, headers=dept.headers).json
    assert (graded["score"], graded["grade"], graded["model_version"]) == (40, "D", "enterprise-2026.1")
    assert graded["reasons"][0] == "行政处罚记录（严重）：-30 分"
    for headers in (stranger.headers, other_admin.headers, merchant_admin.headers):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get("/api/v1/enterprises/org_missing/credit", headers=dept.headers).status_code == 404

    supervision = f"/api/v1/departments/{dept.id}/enterprises"
    d_list = client.get(supervision, query_string={"grade": "D"}, headers=dept.headers).json["items"]
    assert [(e["org_id"], e["grade"]) for e in d_list] == [(ent_id, "D")]
    assert client.get(supervision, query_string={"grade": "E"}, headers=dept.headers).status_code == 422
    assert client.get(supervision, headers=owner.headers).status_code == 404


def test_black_list_forces_grade_d(client: FlaskClient, dept: Dept, factory: Factory) -> None:
    enterprise: Organisation = factory.org("enterprise")
    ent_id, code = enterprise.id, enterprise.credit_code
    client.post(dept.batch_url(), json={"records": [
        item("BL-1", credit_code=code, category="black_list", severity="serious"),
        *[item(f"OK-{i}", credit_code=code, category="administrative_license", severity=None) for i in range(20)],
    ]}, headers=dept.headers)
    body = client.get(f"/api/v1/enterprises/{ent_id}/credit", headers=dept.headers).json
    assert body["grade"] == "D" and body["serious_dishonesty"] is True and body["score"] == 60
