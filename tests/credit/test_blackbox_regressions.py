"""Regressions found by black-box use of the API: unknown subjects in batches, dated corrections,
the graded supervision order, recompute of an unknown subject, model kinds, re-activation."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.credit.models import CreditStanding
from backend.credit.scoring import DEFAULT_PERSON_MODEL
from tests.credit.conftest import Dept, days_ago, item
from tests.credit.test_disputes import _ingest, _object
from tests.factories import Factory, valid_credit_code


def _results(resp: Any) -> list[tuple[str, str, Any]]:
    return [(i["source_ref"], i["result"], i.get("error")) for i in resp.json["items"]]


def test_a_batch_naming_an_unknown_person_or_organisation_fails_only_that_item(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    village = factory.org("village")
    village_id = village.id
    body = {"records": [
        {**item("U-1"), "person_id": "per_bogus"},
        {**item("U-2"), "person_id": resident.person_id},
        {**item("U-3"), "org_id": "org_bogus"},
        {**item("U-4"), "org_id": village_id},
        {**item("U-1"), "person_id": "per_bogus"},
        {**item("U-3"), "org_id": "org_bogus"},
    ]}
    resp = client.post(dept.batch_url(), json=body, headers=dept.headers)
    assert resp.status_code == 200, resp.json
    assert _results(resp) == [
        ("U-1", "error", {"code": "person_not_found"}), ("U-2", "created", None),
        ("U-3", "error", {"code": "org_not_found"}), ("U-4", "error", {"code": "not_an_enterprise"}),
        ("U-1", "error", {"code": "person_not_found"}), ("U-3", "error", {"code": "org_not_found"}),
    ]
    assert (resp.json["created"], resp.json["duplicate"], resp.json["error"]) == (1, 0, 5)
    assert client.get("/api/v1/me/credit", headers=resident.headers).json["score"] == 580


def test_a_credit_code_of_a_village_or_department_is_not_an_enterprise(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    village_code = factory.org("village", credit_code=valid_credit_code()).credit_code
    dept_code = factory.org("department").credit_code
    assert village_code and dept_code
    resp = client.post(dept.batch_url(), json={"records": [
        item("V-1", credit_code=village_code), item("V-2", credit_code=dept_code),
        item("V-3", credit_code=valid_credit_code()), item("V-1", credit_code=village_code),
    ]}, headers=dept.headers)
    assert resp.status_code == 200, resp.json
    assert _results(resp) == [
        ("V-1", "error", {"code": "not_an_enterprise"}), ("V-2", "error", {"code": "not_an_enterprise"}),
        ("V-3", "created", None), ("V-1", "error", {"code": "not_an_enterprise"}),
    ]


def test_a_subject_id_that_is_not_a_string_is_an_invalid_record(client: FlaskClient, dept: Dept) -> None:
    resp = client.post(dept.batch_url(), json={"records": [
        {**item("T-1"), "person_id": 123}, {**item("T-2"), "org_id": ["x"]},
    ]}, headers=dept.headers)
    assert resp.status_code == 200, resp.json
    assert [(i["source_ref"], i["result"], i["error"]["code"]) for i in resp.json["items"]] == [
        ("T-1", "error", "invalid_record"), ("T-2", "error", "invalid_record")]


def test_an_objection_corrected_with_a_new_occurred_at_moves_the_record(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident)
    url = _object(client, dept, resident, record_id, "日期有误")
    resp = client.post(url, json={"outcome": "corrected", "corrections": {"occurred_at": "2026-10-01T09:00:00+08:00"}},
                       headers=dept.headers)
    assert resp.status_code == 200, resp.json
    moment = dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)
    assert resp.json["outcome"] == "corrected"
    assert dt.datetime.fromisoformat(resp.json["corrections"]["occurred_at"]) == moment
    records = client.get("/api/v1/me/credit/records", headers=resident.headers).json["items"]
    assert [dt.datetime.fromisoformat(r["occurred_at"]) for r in records if r["id"] == record_id] == [moment]
    mine = client.get("/api/v1/me/credit/objections", headers=resident.headers).json["items"]
    assert dt.datetime.fromisoformat(mine[0]["corrections"]["occurred_at"]) == moment


def test_graded_supervision_lists_d_first_and_pages_in_the_same_order(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    codes = {grade: factory.org("enterprise").credit_code for grade in "ABCD"}
    licence: dict[str, Any] = {"category": "administrative_license", "severity": None}
    client.post(dept.batch_url(), json={"records": [
        *[item(f"A-{i}", credit_code=codes["A"], **licence) for i in range(10)],  # 80 + 10 = 90
        item("B-1", credit_code=codes["B"], **licence),  # 81
        item("C-1", credit_code=codes["C"]),  # 80 - 10 = 70
        item("D-1", credit_code=codes["D"], severity="serious"), item("D-2", credit_code=codes["D"]),  # 40
    ]}, headers=dept.headers)
    url = f"/api/v1/departments/{dept.id}/enterprises"
    listed = client.get(url, headers=dept.headers)
    assert listed.status_code == 200, listed.json
    assert [(e["credit_code"], e["grade"], e["score"]) for e in listed.json["items"]] == [
        (codes["D"], "D", 40), (codes["C"], "C", 70), (codes["B"], "B", 81), (codes["A"], "A", 90)]
    walked: list[str] = []
    cursor: str | None = None
    for _ in range(6):
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query_string=query, headers=dept.headers)
        assert page.status_code == 200, page.json
        walked += [e["grade"] for e in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert walked == ["D", "C", "B", "A"]


def test_recompute_of_an_unknown_subject_fails_and_stores_nothing(app: Flask, session: Session) -> None:
    out = app.test_cli_runner().invoke(args=["credit", "recompute", "--subject", "per_bogus"])
    assert out.exit_code != 0
    assert "subject_not_found" in out.output
    count = session.scalar(select(func.count()).select_from(CreditStanding)
                           .where(CreditStanding.subject_id == "per_bogus"))
    session.rollback()
    assert count == 0


def test_a_model_must_have_the_levels_and_black_list_level_of_its_kind(
        client: FlaskClient, factory: Factory) -> None:
    admin = factory.user("admin")
    wrong_kind = client.post("/api/v1/credit/models", json={
        "version": "ent-x", "subject_kind": "enterprise", "params": DEFAULT_PERSON_MODEL}, headers=admin.headers)
    assert wrong_kind.status_code == 422 and wrong_kind.json["code"] == "invalid_model"
    params = copy.deepcopy(DEFAULT_PERSON_MODEL)
    params["black_list_level"] = "B"
    soft = client.post("/api/v1/credit/models", json={"version": "person-soft", "subject_kind": "person",
                                                      "params": params}, headers=admin.headers)
    assert soft.status_code == 422 and soft.json["code"] == "invalid_model"
    versions = [m["version"] for m in client.get("/api/v1/credit/models", headers=admin.headers).json["items"]]
    assert sorted(versions) == ["enterprise-2026.1", "person-2026.1"]


def test_activating_the_active_model_again_rescores_nobody(client: FlaskClient, factory: Factory) -> None:
    admin = factory.user("admin")
    resident = factory.user("resident")
    history = "/api/v1/me/credit/history"
    before = client.get(history, headers=resident.headers).json["items"]
    assert len(before) == 1
    again = client.post("/api/v1/credit/models/person-2026.1/activate", headers=admin.headers)
    assert again.status_code == 200 and again.json["active"] is True
    after = client.get(history, headers=resident.headers).json["items"]
    assert [h["id"] for h in after] == [h["id"] for h in before]


def test_an_officer_finds_a_persons_records_by_id_number_and_the_look_is_in_their_query_log(
        client: FlaskClient, factory: Factory, dept: Dept) -> None:
    resident = factory.user("resident")
    _ingest(client, dept, resident, ref="LOOK-1")
    before = client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]
    url = f"/api/v1/departments/{dept.id}/records"
    by_number = client.get(f"{url}?subject={resident.id_number}", headers=dept.officer.headers)
    by_id = client.get(f"{url}?subject={resident.person_id}", headers=dept.officer.headers)
    assert [r["source_ref"] for r in by_number.json["items"]] == ["LOOK-1"]
    assert by_id.json["items"] == by_number.json["items"]
    looks = client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]
    assert len(looks) == len(before) + 2 and looks[0]["org_id"] == dept.id and looks[0]["purpose"] == "records"
    nobody = client.get(f"{url}?subject=per_nobody", headers=dept.officer.headers)
    assert nobody.status_code == 200 and nobody.json["items"] == []
    listing = client.get(url, headers=dept.officer.headers)  # the whole list shows this person's records too
    assert listing.status_code == 200 and resident.person_id in {r["person_id"] for r in listing.json["items"]}
    assert len(client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]) == len(looks) + 1
    other = client.get(f"{url}?category=volunteer_service", headers=dept.officer.headers)
    assert other.json["items"] == []  # a page without their records: no look at them
    assert len(client.get("/api/v1/me/credit/queries", headers=resident.headers).json["items"]) == len(looks) + 1


def test_a_full_batch_with_long_decisions_fits_in_one_request(client: FlaskClient, factory: Factory,
                                                             dept: Dept) -> None:
    resident = factory.user("resident")
    decision = "依法作出行政处罚决定" * 150  # 1,500 characters: 4.5 KB of UTF-8
    records = [item(f"BIG-{i:04d}", id_number=resident.id_number, decision=decision) for i in range(1000)]
    response = client.post(dept.batch_url(), json={"records": records}, headers=dept.headers)
    assert response.status_code == 200, response.status_code
    assert response.json["created"] == 1000


def test_dates_before_2000_are_a_per_item_error_and_corrections_are_held_to_the_same_rule(
        client: FlaskClient, factory: Factory, dept: Dept) -> None:
    resident = factory.user("resident")
    records = [item("OLD-GOOD", id_number=resident.id_number),
               item("OLD-1", id_number=resident.id_number, occurred_at="0001-01-01T00:00:00+08:00"),
               item("OLD-2", id_number=resident.id_number, occurred_at="1999-12-31T23:00:00+08:00")]
    results = {r["source_ref"]: r for r in client.post(dept.batch_url(), json={"records": records},
                                                        headers=dept.headers).json["items"]}
    assert results["OLD-GOOD"]["result"] == "created"
    assert results["OLD-1"]["error"]["code"] == results["OLD-2"]["error"]["code"] == "invalid_record"
    record_id = results["OLD-GOOD"]["id"]
    decided = client.post(_object(client, dept, resident, record_id, "日期不对"), headers=dept.headers,
                          json={"outcome": "corrected", "corrections": {"occurred_at": "0001-01-01T00:00:00+08:00"}})
    assert decided.status_code == 422 and decided.json["code"] == "invalid_record"


def test_a_repair_is_not_approved_for_a_record_an_objection_made_positive(
        client: FlaskClient, factory: Factory, dept: Dept) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident, ref="FLIP-1", occurred_at=days_ago(200))
    repair = client.post("/api/v1/me/credit/repairs", headers=resident.headers,
                         json={"record_id": record_id, "statement": "已整改"})
    assert repair.status_code == 201, repair.json
    corrected = client.post(_object(client, dept, resident, record_id, "这是表彰"),
                            headers=dept.headers, json={"outcome": "corrected",
                                                        "corrections": {"category": "honour", "polarity": "positive"}})
    assert corrected.status_code == 200
    approved = client.post(f"/api/v1/departments/{dept.id}/repairs/{repair.json['id']}/decision",
                           headers=dept.headers, json={"outcome": "approved", "note": "ok"})
    assert approved.status_code == 409 and approved.json["code"] == "not_repairable"
    mine = client.get("/api/v1/me/credit/records", headers=resident.headers).json["items"]
    assert [(r["category"], r["status"]) for r in mine if r["id"] == record_id] == [("honour", "active")]


def test_a_score_model_with_unbounded_numbers_or_unknown_keys_is_invalid(client: FlaskClient, factory: Factory) -> None:
    admin = factory.user("admin")
    unreachable = [["AAA", 2000], ["AA", 750], ["A", 600], ["B", 450], ["C", None]]  # above max 1000
    for change in ({"max": 10**19}, {"identity": {"verified": 10**19}}, {"extra": 1}, {"levels": unreachable}):
        params = {**copy.deepcopy(DEFAULT_PERSON_MODEL), **change}
        response = client.post("/api/v1/credit/models", headers=admin.headers,
                               json={"version": f"t-{len(str(change))}", "subject_kind": "person", "params": params})
        assert response.status_code == 422 and response.json["code"] == "invalid_model", change


def test_the_credit_and_medical_jobs_refuse_days_outside_the_calendar(app: Flask) -> None:
    for args in (["credit", "expire", "--as-of", "9999-12-31"], ["medical", "mark-overdue", "--as-of", "1999-12-31"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1 and "invalid_as_of" in result.output, result.output


def test_far_future_dates_are_a_per_item_error_not_an_overflow(client: FlaskClient, factory: Factory,
                                                               dept: Dept) -> None:
    resident = factory.user("resident")
    records = [item("FAR-1", id_number=resident.id_number, occurred_at="9999-12-31T23:00:00-10:00"),
               item("FAR-OK", id_number=resident.id_number)]
    results = {r["source_ref"]: r for r in client.post(dept.batch_url(), json={"records": records},
                                                        headers=dept.headers).json["items"]}
    assert results["FAR-1"]["error"]["code"] == "occurred_in_future" and results["FAR-OK"]["result"] == "created"


def test_score_model_sections_take_exactly_their_keys_and_no_booleans(client: FlaskClient, factory: Factory) -> None:
    admin = factory.user("admin")
    bogus = copy.deepcopy(DEFAULT_PERSON_MODEL)
    bogus["dishonesty"]["bogus"] = 5
    boolean = copy.deepcopy(DEFAULT_PERSON_MODEL)
    boolean["identity"]["verified"] = True
    for version, params in (("t-bogus", bogus), ("t-bool", boolean)):
        response = client.post("/api/v1/credit/models", headers=admin.headers,
                               json={"version": version, "subject_kind": "person", "params": params})
        assert response.status_code == 422 and response.json["code"] == "invalid_model", version
