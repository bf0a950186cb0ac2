"""Objections (异议) and repairs (信用修复) through HTTP, resident and department side."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.credit import scoring
from backend.credit.models import CreditObjection
from tests.credit.conftest import Dept, days_ago, item
from tests.factories import Factory, User


def _ingest(client: FlaskClient, dept: Dept, resident: User, **kwargs: Any) -> str:
    ref = kwargs.pop("ref", "D-1")
    resp = client.post(dept.batch_url(), json={"records": [item(ref, id_number=resident.id_number, **kwargs)]},
                       headers=dept.headers)
    assert resp.json["items"][0]["result"] == "created", resp.json
    return str(resp.json["items"][0]["id"])


def _object(client: FlaskClient, dept: Dept, resident: User, record_id: str, reason: str = "r") -> str:
    """The resident objects to a record: the path of the department's decision on the objection."""
    resp = client.post("/api/v1/me/credit/objections", json={"record_id": record_id, "reason": reason},
                       headers=resident.headers)
    assert resp.status_code == 201, resp.json
    return f"/api/v1/departments/{dept.id}/objections/{resp.json['id']}/decision"


def _score(client: FlaskClient, resident: User) -> int:
    return int(client.get("/api/v1/me/credit", headers=resident.headers).json["score"])


def _status(client: FlaskClient, resident: User, record_id: str) -> str:
    items = client.get("/api/v1/me/credit/records", headers=resident.headers).json["items"]
    return str(next(r["status"] for r in items if r["id"] == record_id))


def test_filing_marks_the_record_disputed_with_a_working_day_due_date(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident)
    resp = client.post("/api/v1/me/credit/objections",
                       json={"record_id": record_id, "reason": "已在期限内缴纳", "evidence": ["receipt-1.jpg"]},
                       headers=resident.headers)
    assert resp.status_code == 201, resp.json
    body = resp.json
    created = dt.datetime.fromisoformat(body["created_at"])
    assert dt.datetime.fromisoformat(body["due_at"]) == scoring.due_at(created, 5)
    assert body["status"] == "open" and body["evidence"] == ["receipt-1.jpg"]
    assert _status(client, resident, record_id) == "disputed"
    assert _score(client, resident) == 580  # a disputed record still counts

    again = client.post("/api/v1/me/credit/objections", json={"record_id": record_id, "reason": "再次"},
                        headers=resident.headers)
    assert again.status_code == 409 and again.json["code"] == "objection_open"
    mine = client.get("/api/v1/me/credit/objections", headers=resident.headers).json["items"]
    assert [o["id"] for o in mine] == [body["id"]]


def test_revoked_objection_removes_the_record_from_the_score(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident)
    oid = client.post("/api/v1/me/credit/objections", json={"record_id": record_id, "reason": "处罚已撤销"},
                      headers=resident.headers).json["id"]
    listed = client.get(f"/api/v1/departments/{dept.id}/objections", headers=dept.headers).json["items"]
    assert [o["id"] for o in listed] == [oid]
    url = f"/api/v1/departments/{dept.id}/objections/{oid}/decision"
    resp = client.post(url, json={"outcome": "revoked", "note": "原处罚决定已被复议撤销"}, headers=dept.headers)
    assert resp.status_code == 200 and resp.json["outcome"] == "revoked"
    assert _status(client, resident, record_id) == "revoked"
    assert _score(client, resident) == 620
    twice = client.post(url, json={"outcome": "upheld"}, headers=dept.headers)
    assert twice.status_code == 409 and twice.json["code"] == "objection_decided"
    mine = client.get("/api/v1/me/credit/objections", headers=resident.headers).json["items"]
    assert mine[0]["outcome"] == "revoked" and mine[0]["note"] == "原处罚决定已被复议撤销"


def test_upheld_and_corrected_objections(client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    first = _ingest(client, dept, resident, ref="U-1")
    second = _ingest(client, dept, resident, ref="U-2", severity="serious")
    assert _score(client, resident) == 620 - 40 - 150
    o1 = client.post("/api/v1/me/credit/objections", json={"record_id": first, "reason": "r"},
                     headers=resident.headers).json["id"]
    o2 = client.post("/api/v1/me/credit/objections", json={"record_id": second, "reason": "应为一般"},
                     headers=resident.headers).json["id"]
    base = f"/api/v1/departments/{dept.id}/objections"
    upheld = client.post(f"{base}/{o1}/decision", json={"outcome": "upheld"}, headers=dept.headers)
    assert upheld.status_code == 200
    assert _status(client, resident, first) == "active"
    missing = client.post(f"{base}/{o2}/decision", json={"outcome": "corrected"}, headers=dept.headers)
    assert missing.status_code == 422 and missing.json["code"] == "corrections_required"
    bad = client.post(f"{base}/{o2}/decision", json={"outcome": "corrected", "corrections": {"severity": "tiny"}},
                      headers=dept.headers)
    assert bad.status_code == 422
    fixed = client.post(f"{base}/{o2}/decision", json={"outcome": "corrected", "corrections": {"severity": "general"}},
                        headers=dept.headers)
    assert fixed.status_code == 200, fixed.json
    assert _status(client, resident, second) == "active"
    assert _score(client, resident) == 620 - 40 - 40
    history = client.get("/api/v1/me/credit/history", headers=resident.headers).json["items"]
    assert history[0]["cause"] == "objection_corrected" and history[0]["delta"] == 110


def test_departments_list_overdue_objections_and_only_their_own(
        client: FlaskClient, dept: Dept, factory: Factory, session: Session) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident)
    oid = client.post("/api/v1/me/credit/objections", json={"record_id": record_id, "reason": "r"},
                      headers=resident.headers).json["id"]
    url = f"/api/v1/departments/{dept.id}/objections"
    assert client.get(url, query_string={"overdue": "true"}, headers=dept.headers).json["items"] == []
    session.execute(update(CreditObjection).where(CreditObjection.id == oid)
                    .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    session.commit()
    overdue = client.get(url, query_string={"overdue": "true"}, headers=dept.headers).json["items"]
    assert [o["id"] for o in overdue] == [oid]
    other = factory.org("department")
    other_officer = factory.user("officer", other)
    assert client.get(url, headers=other_officer.headers).status_code == 404
    assert client.get(f"/api/v1/departments/{other.id}/objections", headers=other_officer.headers).json["items"] == []
    stolen = client.post(f"/api/v1/departments/{other.id}/objections/{oid}/decision", json={"outcome": "revoked"},
                         headers=other_officer.headers)
    assert stolen.status_code == 404 and stolen.json["code"] == "objection_not_found"


def test_repair_rules_and_approval(client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    old = _ingest(client, dept, resident, ref="R-old", occurred_at=days_ago(120))
    recent = _ingest(client, dept, resident, ref="R-new", occurred_at=days_ago(10))
    minor = _ingest(client, dept, resident, ref="R-minor", severity="minor", occurred_at=days_ago(40))
    court = _ingest(client, dept, resident, ref="R-court", category="court_defaulter", severity="serious")
    good = _ingest(client, dept, resident, ref="R-good", category="honour", severity=None)
    url = "/api/v1/me/credit/repairs"

    early = client.post(url, json={"record_id": recent, "statement": "已缴纳罚款"}, headers=resident.headers)
    assert early.status_code == 422 and early.json["code"] == "repair_too_early"
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    assert early.json["earliest"] == scoring.add_months(occurred, 3).astimezone(scoring.SHANGHAI).date().isoformat()
    for record_id in (minor, court, good):
        resp = client.post(url, json={"record_id": record_id, "statement": "s"}, headers=resident.headers)
        assert resp.status_code == 422 and resp.json["code"] == "not_repairable", record_id

    score_before = _score(client, resident)
    repair = client.post(url, json={"record_id": old, "statement": "已缴纳罚款并整改"}, headers=resident.headers)
    assert repair.status_code == 201 and repair.json["status"] == "pending"
    dup = client.post(url, json={"record_id": old, "statement": "again"}, headers=resident.headers)
    assert dup.status_code == 409 and dup.json["code"] == "repair_pending"
    pending = client.get(f"/api/v1/departments/{dept.id}/repairs", query_string={"status": "pending"},
                         headers=dept.headers).json["items"]
    assert [r["id"] for r in pending] == [repair.json["id"]]

    decide = f"/api/v1/departments/{dept.id}/repairs/{repair.json['id']}/decision"
    approved = client.post(decide, json={"outcome": "approved", "note": "整改到位"}, headers=dept.headers)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert _status(client, resident, old) == "repaired"
    assert _score(client, resident) == score_before + 40
    again = client.post(decide, json={"outcome": "rejected", "note": "x"}, headers=dept.headers)
    assert again.status_code == 409 and again.json["code"] == "repair_decided"
    closed = client.post(url, json={"record_id": old, "statement": "s"}, headers=resident.headers)
    assert closed.status_code == 409 and closed.json["code"] == "record_closed"


def test_a_rejected_repair_needs_a_reason_and_leaves_the_record(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident, occurred_at=days_ago(200))
    repair_id = client.post("/api/v1/me/credit/repairs", json={"record_id": record_id, "statement": "s"},
                            headers=resident.headers).json["id"]
    decide = f"/api/v1/departments/{dept.id}/repairs/{repair_id}/decision"
    assert client.post(decide, json={"outcome": "rejected"}, headers=dept.headers).json["code"] == "note_required"
    resp = client.post(decide, json={"outcome": "rejected", "note": "罚款尚未缴纳"}, headers=dept.headers)
    assert resp.status_code == 200 and resp.json["status"] == "rejected"
    assert _status(client, resident, record_id) == "active"
    mine = client.get("/api/v1/me/credit/repairs", headers=resident.headers).json["items"]
    assert mine[0]["note"] == "罚款尚未缴纳"
    # a serious record's minimum publicity is one year
    serious = _ingest(client, dept, resident, ref="S-1", occurred_at=days_ago(200), severity="serious")
    early = client.post("/api/v1/me/credit/repairs", json={"record_id": serious, "statement": "s"},
                        headers=resident.headers)
    assert early.status_code == 422 and early.json["code"] == "repair_too_early"


def test_a_repair_may_name_a_signed_credit_repair_commitment(
        client: FlaskClient, dept: Dept, factory: Factory, monkeypatch: Any) -> None:
    from backend.commitments import service as commitments_service

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(commitments_service, "require_signed_repair_commitment",
                        lambda **kwargs: calls.append(kwargs))
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident)
    resp = client.post("/api/v1/me/credit/repairs",
                       json={"record_id": record_id, "statement": "s", "commitment_id": "cmt_1"},
                       headers=resident.headers)
    assert resp.status_code == 201 and resp.json["commitment_id"] == "cmt_1"
    assert calls and calls[0]["commitment_id"] == "cmt_1" and calls[0]["subject_id"] == resident.person_id


def test_an_officer_decides_neither_an_objection_nor_a_repair_about_their_own_record(
        client: FlaskClient, dept: Dept, factory: Factory, session: Session) -> None:
    """Four eyes: an officer who is a record's subject cannot clear it (409 conflict_of_interest);
    a colleague can."""
    org = factory.org("department")
    own, colleague = factory.user("officer", org, verified=True), factory.user("officer", org)
    department = Dept(id=org.id, officer=colleague)  # a colleague files the records (four eyes)
    contested = _ingest(client, department, own, ref="SELF-1", severity="serious")
    decision = _object(client, department, own, contested)
    refused = client.post(decision, json={"outcome": "revoked"}, headers=own.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
    assert _status(client, own, contested) == "disputed"  # nothing decided
    assert client.post(decision, json={"outcome": "upheld", "note": "维持"},
                       headers=colleague.headers).status_code == 200

    repairable = _ingest(client, department, own, ref="SELF-2", occurred_at=days_ago(200))
    applied = client.post("/api/v1/me/credit/repairs", json={"record_id": repairable, "statement": "已整改"},
                          headers=own.headers)
    assert applied.status_code == 201, applied.json
    repair_decision = f"/api/v1/departments/{department.id}/repairs/{applied.json['id']}/decision"
    refused = client.post(repair_decision, json={"outcome": "approved"}, headers=own.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
    assert _status(client, own, repairable) == "active"
    assert client.post(repair_decision, json={"outcome": "approved"}, headers=colleague.headers).status_code == 200


def _enterprise_records(client: FlaskClient, dept: Dept, factory: Factory, *specs: dict[str, Any]) -> tuple[Any, list[str]]:
    enterprise = factory.org("enterprise")
    resp = client.post(dept.batch_url(), json={"records": [item(f"ENT-{n}", credit_code=enterprise.credit_code, **spec)
                                                           for n, spec in enumerate(specs)]},
                       headers=dept.headers)
    assert all(i["result"] == "created" for i in resp.json["items"]), resp.json
    return enterprise, [i["id"] for i in resp.json["items"]]


def test_an_enterprise_admin_contests_and_repairs_the_enterprises_records(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    """DOMAIN.md: a subject may object to its records and apply to repair them; an enterprise is a subject."""
    enterprise, (contested, repairable) = _enterprise_records(
        client, dept, factory, {"severity": "serious"}, {"occurred_at": days_ago(200)})
    admin, signer = factory.user("admin", enterprise), factory.user("signer", enterprise)
    base = f"/api/v1/enterprises/{enterprise.id}/credit"
    listed = client.get(f"{base}/records", headers=admin.headers)
    assert listed.status_code == 200 and {r["id"] for r in listed.json["items"]} == {contested, repairable}
    grade_before = client.get(f"/api/v1/enterprises/{enterprise.id}/credit", headers=admin.headers).json["score"]

    filed = client.post(f"{base}/objections", json={"record_id": contested, "reason": "处罚决定已被撤销"},
                        headers=admin.headers)
    assert filed.status_code == 201, filed.json
    assert client.get(f"{base}/objections", headers=admin.headers).json["items"][0]["id"] == filed.json["id"]
    statuses = {r["id"]: r["status"] for r in client.get(f"{base}/records", headers=admin.headers).json["items"]}
    assert statuses[contested] == "disputed"
    decided = client.post(f"/api/v1/departments/{dept.id}/objections/{filed.json['id']}/decision",
                          json={"outcome": "revoked", "note": "已撤销"}, headers=dept.headers)
    assert decided.status_code == 200
    grade_after = client.get(f"/api/v1/enterprises/{enterprise.id}/credit", headers=admin.headers).json["score"]
    assert grade_after > grade_before  # the serious record no longer counts

    applied = client.post(f"{base}/repairs", json={"record_id": repairable, "statement": "已整改并缴清罚款"},
                          headers=admin.headers)
    assert applied.status_code == 201, applied.json
    assert [r["id"] for r in client.get(f"{base}/repairs", headers=admin.headers).json["items"]] == [applied.json["id"]]

    # a signer is no legal representative; another enterprise's admin and a resident see nothing of it
    assert client.get(f"{base}/records", headers=signer.headers).status_code == 403
    other = factory.org("enterprise")
    other_admin = factory.user("admin", other, verified=True)
    stranger = client.post(f"/api/v1/enterprises/{other.id}/credit/objections",
                           json={"record_id": repairable, "reason": "r"}, headers=other_admin.headers)
    assert stranger.status_code == 404 and stranger.json["code"] == "record_not_found"
    personal = client.post("/api/v1/me/credit/objections", json={"record_id": repairable, "reason": "r"},
                           headers=other_admin.headers)
    assert personal.status_code == 404


def test_a_member_of_an_enterprise_decides_no_objection_about_the_enterprise(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    enterprise, (record_id,) = _enterprise_records(client, dept, factory, {})
    filed = client.post(f"/api/v1/enterprises/{enterprise.id}/credit/objections",
                        json={"record_id": record_id, "reason": "r"},
                        headers=factory.user("admin", enterprise).headers)
    assert filed.status_code == 201, filed.json
    factory.grant(dept.officer.account, enterprise, "signer")  # the officer also works for the enterprise
    refused = client.post(f"/api/v1/departments/{dept.id}/objections/{filed.json['id']}/decision",
                          json={"outcome": "revoked"}, headers=dept.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"


def test_a_repaired_record_an_objection_finds_positive_counts_again_and_notes_must_show(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident, ref="RP-1", occurred_at=days_ago(200))
    repair = client.post("/api/v1/me/credit/repairs", json={"record_id": record_id, "statement": "已整改"},
                         headers=resident.headers).json
    decision = _object(client, dept, resident, record_id)
    blank = client.post(f"/api/v1/departments/{dept.id}/repairs/{repair['id']}/decision",
                        json={"outcome": "rejected", "note": "\ufeff"}, headers=dept.headers)
    assert blank.status_code == 422  # a rejection's reason must show
    assert client.post(f"/api/v1/departments/{dept.id}/repairs/{repair['id']}/decision",
                       json={"outcome": "approved"}, headers=dept.headers).status_code == 200
    assert _status(client, resident, record_id) == "repaired"
    before = _score(client, resident)
    corrected = client.post(decision, json={"outcome": "corrected", "corrections": {
        "category": "administrative_license", "polarity": "positive", "severity": None}}, headers=dept.headers)
    assert corrected.status_code == 200, corrected.json
    assert _status(client, resident, record_id) == "active"  # a reward, counted again
    assert _score(client, resident) == before + 5


def test_a_record_past_its_publicity_reads_expired_before_the_job_and_takes_no_objection_or_repair(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    """A general penalty counts 12 months at most: after that it no longer counts, so it shows as
    expired at once (the daily job writes it later) and there is nothing to contest or repair."""
    resident = factory.user("resident")
    old = _ingest(client, dept, resident, ref="PAST-1", occurred_at=days_ago(400))
    fresh = _ingest(client, dept, resident, ref="PAST-2", occurred_at=days_ago(200))
    mine = {r["id"]: r["status"] for r in client.get("/api/v1/me/credit/records", headers=resident.headers).json["items"]}
    assert mine == {old: "expired", fresh: "active"}
    by_status = {status: [r["id"] for r in client.get("/api/v1/me/credit/records", query_string={"status": status},
                                                        headers=resident.headers).json["items"]]
                 for status in ("active", "expired")}
    assert by_status == {"active": [fresh], "expired": [old]}
    for path, body in (("objections", {"record_id": old, "reason": "已过公示期"}),
                       ("repairs", {"record_id": old, "statement": "已整改"})):
        refused = client.post(f"/api/v1/me/credit/{path}", json=body, headers=resident.headers)
        assert refused.status_code == 409 and refused.json["code"] == "record_closed", refused.json
        assert refused.json["record_status"] == "expired"


def test_a_repair_may_be_applied_for_from_the_day_its_refusal_names(
        client: FlaskClient, dept: Dept, factory: Factory, monkeypatch) -> None:
    """`repair_too_early` says "from 2026-12-02": on that day, in Beijing, the application is taken,
    even in the hours before the exact moment the minimum period ends (11:00 here)."""
    from backend.credit.service import core, disputes

    resident = factory.user("resident")
    record_id = _ingest(client, dept, resident, ref="DAY-1", occurred_at="2026-09-02T11:00:00+08:00")

    def at(moment: str) -> None:
        clock = dt.datetime.fromisoformat(moment).astimezone(dt.UTC)
        monkeypatch.setattr(disputes, "utcnow", lambda: clock)
        monkeypatch.setattr(core, "utcnow", lambda: clock)

    body = {"record_id": record_id, "statement": "已缴纳罚款并整改"}
    at("2026-12-01T23:30:00+08:00")
    early = client.post("/api/v1/me/credit/repairs", json=body, headers=resident.headers)
    assert early.status_code == 422 and early.json["earliest"] == "2026-12-02"
    at("2026-12-02T09:29:00+08:00")
    taken = client.post("/api/v1/me/credit/repairs", json=body, headers=resident.headers)
    assert taken.status_code == 201, taken.json
