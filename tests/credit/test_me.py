"""A resident's own credit: score, reasons, records, history, query log; never anyone else's."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from backend.credit import service as credit_service
from backend.credit.schemas import CreditSchema
from tests.credit.conftest import Dept, item
from tests.factories import Factory


def test_a_new_verified_resident_sees_620_a_with_reasons(client: FlaskClient, factory: Factory) -> None:
    resident = factory.user("resident")
    resp = client.get("/api/v1/me/credit", headers=resident.headers)
    assert resp.status_code == 200
    body = resp.json
    assert (body["score"], body["level"], body["level_name"]) == (620, "A", "中等")
    assert body["model_version"] == "person-2026.1"
    assert body["serious_dishonesty"] is False
    assert body["reasons"] == ["已完成实名认证：+20 分"]
    assert [d["code"] for d in body["dimensions"]] == ["identity", "compliance", "public_welfare", "dishonesty"]
    assert CreditSchema().load(body)["score"] == 620  # exactly the documented shape, nothing more
    en = client.get("/api/v1/me/credit", headers={**resident.headers, "Accept-Language": "en"}).json
    assert en["level_name"] == "fair" and en["reasons"] == ["Real-name verified: +20 points"]


def test_one_general_penalty_gives_580_b_and_is_named_in_the_reasons(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    client.post(dept.batch_url(), json={"records": [item("P-1", id_number=resident.id_number)]},
                headers=dept.headers)
    body = client.get("/api/v1/me/credit", headers=resident.headers).json
    assert (body["score"], body["level"], body["level_name"]) == (580, "B", "较差")
    assert body["reasons"][0] == "行政处罚记录（一般）：-40 分"
    history = client.get("/api/v1/me/credit/history", headers=resident.headers).json["items"]
    assert [(h["score"], h["delta"], h["cause"]) for h in history] == [(580, -40, "record_created"),
                                                                        (620, None, "verified")]
    assert history[0]["changes"][0]["category"] == "administrative_penalty"
    records = client.get("/api/v1/me/credit/records", headers=resident.headers).json["items"]
    assert records[0]["status"] == "active" and records[0]["category_name"] == "行政处罚"
    assert records[0]["publicity_end"] > records[0]["occurred_at"]


def test_unverified_accounts_and_merchants_never_reach_scores(client: FlaskClient, factory: Factory) -> None:
    merchant = factory.org("merchant")
    cashier = factory.user("cashier", merchant)
    unverified = factory.user("account")
    for headers in (cashier.headers, unverified.headers):
        for path in ("/api/v1/me/credit", "/api/v1/me/credit/records", "/api/v1/me/credit/history"):
            resp = client.get(path, headers=headers)
            assert resp.status_code == 403 and resp.json["code"] == "verification_required"
    assert client.get("/api/v1/me/credit").status_code == 401


def test_a_resident_never_sees_or_touches_another_persons_records(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    alice, bob = factory.user("resident"), factory.user("resident", name="李四")
    resp = client.post(dept.batch_url(), json={"records": [item("X-1", id_number=alice.id_number)]},
                       headers=dept.headers)
    record_id = resp.json["items"][0]["id"]
    assert client.get("/api/v1/me/credit/records", headers=bob.headers).json["items"] == []
    assert client.get("/api/v1/me/credit", headers=bob.headers).json["score"] == 620
    objection = client.post("/api/v1/me/credit/objections", json={"record_id": record_id, "reason": "不是我"},
                            headers=bob.headers)
    assert objection.status_code == 404 and objection.json["code"] == "record_not_found"
    repair = client.post("/api/v1/me/credit/repairs", json={"record_id": record_id, "statement": "已缴纳罚款"},
                         headers=bob.headers)
    assert repair.status_code == 404
    assert client.get("/api/v1/me/credit/objections", headers=bob.headers).json["items"] == []


def test_the_query_log_lists_who_looked_and_why(client: FlaskClient, factory: Factory, session: Session) -> None:
    resident = factory.user("resident")
    hospital = factory.org("hospital", name="市一医院")
    clinician = factory.user("clinician", hospital)
    credit_service.log_query(session=session, actor=clinician.actor, org_id=hospital.id,
                             person_id=resident.person_id, purpose="信用就医资格")
    session.commit()
    items = client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]
    assert [(q["org_id"], q["org_name"], q["purpose"]) for q in items] == [(hospital.id, "市一医院", "信用就医资格")]
    assert "at" in items[0]
    other = factory.user("resident")
    assert client.get("/api/v1/me/credit/queries", headers=other.headers).json["items"] == []


def test_categories_are_public_reference_data(client: FlaskClient) -> None:
    items = client.get("/api/v1/credit/categories").json["items"]
    by_code = {c["code"]: c for c in items}
    assert len(by_code) == 18
    assert by_code["black_list"]["severities"] == ["serious"] and not by_code["black_list"]["repairable"]
    assert by_code["administrative_penalty"]["publicity_months"]["general"] == [3, 12]
    assert by_code["volunteer_service"]["polarity"] == "positive"


def test_points_rating_hook_is_reflected_in_my_credit(client: FlaskClient, factory: Factory,
                                                     session: Session) -> None:
    resident = factory.user("resident")
    credit_service.update_points_rating(session=session, person_id=resident.person_id, rating=120)
    session.commit()
    body = client.get("/api/v1/me/credit", headers=resident.headers).json
    assert body["score"] == 632
    welfare = next(d for d in body["dimensions"] if d["code"] == "public_welfare")
    assert welfare["points"] == 12 and welfare["rating_points"] == 12
