"""Sealed credit reports: the subject's own records and level, verifiable like commitments."""

import datetime as dt
import json
import re

from sqlalchemy import text

from backend.credit import service as credit_service


def _record(session, settings, department, *, ref, person_id=None, org_id=None, category="administrative_penalty",
            severity="general"):
    credit_service.record_event(session=session, settings=settings, source_org_id=department.id, category=category,
                                source_ref=ref, occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3),
                                decision="逾期未申报", severity=severity, subject_person_id=person_id,
                                subject_org_id=org_id)
    session.commit()


def test_a_resident_issues_a_sealed_report_of_its_records_and_level(client, factory, session, settings):
    department = factory.org("department")
    resident = factory.user("resident", name="李小龙")
    other = factory.user("resident")
    _record(session, settings, department, ref="r-1", person_id=resident.person_id)
    _record(session, settings, department, ref="r-2", person_id=other.person_id)
    session.rollback()
    response = client.post("/api/v1/me/credit/reports", json={"purpose": "招投标"}, headers=resident.headers)
    assert response.status_code == 201
    report = response.json
    assert report["id"].startswith("crp_") and len(report["public_id"]) == 16 and report["signature"]
    public = client.get(f"/api/v1/public/reports/{report['public_id']}")
    assert public.status_code == 200
    view = public.json
    assert view["valid"] is True and view["purpose"] == "招投标"
    assert view["subject"]["name"] == "李**" and resident.id_number not in json.dumps(view, ensure_ascii=False)
    assert view["standing"]["level"] in {"AAA", "AA", "A", "B", "C"} and isinstance(view["standing"]["score"], int)
    assert [r["category"] for r in view["records"]] == ["administrative_penalty"]
    assert view["records"][0]["source"] == department.name and view["records"][0]["polarity"] == "negative"
    page = client.get(f"/v/{report['public_id']}").get_data(as_text=True)
    assert re.search(r"<h1>真实有效</h1>", page) and "专用信用报告" in page
    assert "行政处罚（失信）" in page and "administrative_penalty" not in page  # names, not codes, for people
    mine = client.get("/api/v1/me/credit/reports", headers=resident.headers).json["items"]
    assert [i["public_id"] for i in mine] == [report["public_id"]]
    assert client.get("/api/v1/me/credit/reports", headers=other.headers).json["items"] == []


def test_a_report_purpose_must_read_as_sealed(client, factory):
    resident = factory.user("resident")
    for purpose, code in ((" \u200b ", "validation_failed"), ("招投标\u200e用途", "bidi_control"),
                          ("招投标\u202e用途", "validation_failed")):
        refused = client.post("/api/v1/me/credit/reports", json={"purpose": purpose}, headers=resident.headers)
        assert refused.status_code == 422 and refused.json["code"] == code, refused.json
    plain = client.post("/api/v1/me/credit/reports", json={"purpose": " 招投标 "}, headers=resident.headers)
    assert plain.status_code == 201 and plain.json["purpose"] == "招投标"
    bare = client.post("/api/v1/me/credit/reports", json={}, headers=resident.headers)
    assert bare.status_code == 201 and bare.json["purpose"] == ""  # as the sealed document says
    assert client.get(f"/api/v1/public/reports/{bare.json['public_id']}").json["purpose"] == ""


def test_the_report_page_shows_each_records_day_in_beijing(client, factory, session, settings):
    """A record a department dated 2026-11-01 (Beijing midnight, 2026-10-31T16:00Z) reads 2026-11-01."""
    department = factory.org("department")
    resident = factory.user("resident")
    credit_service.record_event(session=session, settings=settings, source_org_id=department.id,
                                category="honour", source_ref="day-1", polarity="positive",
                                occurred_at=dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC), decision="诚信之星",
                                subject_person_id=resident.person_id)
    session.commit()
    report = client.post("/api/v1/me/credit/reports", json={}, headers=resident.headers).json
    page = client.get(f"/v/{report['public_id']}").get_data(as_text=True)
    assert "<td>2026-11-01</td>" in page and "2026-10-31" not in page


def test_a_tampered_report_is_not_valid(client, factory, session):
    resident = factory.user("resident")
    public_id = client.post("/api/v1/me/credit/reports", json={}, headers=resident.headers).json["public_id"]
    content = session.execute(text("SELECT content FROM seals WHERE public_id = :p"), {"p": public_id}).scalar_one()
    session.execute(text("UPDATE seals SET content = :c WHERE public_id = :p"),
                    {"c": content.replace('"level":"', '"level":"A'), "p": public_id})
    session.commit()
    assert client.get(f"/api/v1/public/reports/{public_id}").json["valid"] is False
    page = client.get(f"/v/{public_id}").get_data(as_text=True)
    assert re.search(r"<h1>验证失败</h1>", page)


def test_reports_need_a_verified_resident_or_an_enterprise_admin(client, factory, session, settings):
    account = factory.user("account")
    refused = client.post("/api/v1/me/credit/reports", json={}, headers=account.headers)
    assert refused.status_code == 403 and refused.json["code"] == "verification_required"
    enterprise = factory.org("enterprise")
    department = factory.org("department")
    admin = factory.user("admin", enterprise, verified=False)
    signer = factory.user("signer", enterprise)
    _record(session, settings, department, ref="e-1", org_id=enterprise.id, category="administrative_license",
            severity=None)
    session.rollback()
    ok = client.post("/api/v1/me/credit/reports", json={"on_behalf_of": enterprise.id}, headers=admin.headers)
    assert ok.status_code == 201 and ok.json["subject_kind"] == "enterprise"
    view = client.get(f"/api/v1/public/reports/{ok.json['public_id']}").json
    assert view["subject"]["kind"] == "enterprise" and view["standing"]["level"] in {"A", "B", "C", "D"}
    assert [r["category"] for r in view["records"]] == ["administrative_license"]
    assert client.post("/api/v1/me/credit/reports", json={"on_behalf_of": enterprise.id},
                       headers=signer.headers).status_code == 403
    assert client.post("/api/v1/me/credit/reports", json={"on_behalf_of": enterprise.id},
                       headers=factory.user("resident").headers).status_code == 404


def test_report_qr_and_commitment_ids_do_not_mix(client, factory):
    resident = factory.user("resident")
    public_id = client.post("/api/v1/me/credit/reports", json={}, headers=resident.headers).json["public_id"]
    qr = client.get(f"/api/v1/public/reports/{public_id}/qr.png")
    assert qr.status_code == 200 and qr.data.startswith(b"\x89PNG")
    assert client.get(f"/api/v1/public/commitments/{public_id}").status_code == 404


def test_a_report_shows_only_records_that_stand(client, factory, session, settings):
    """Revoked (wrong), repaired (DOMAIN: "no longer counted or shown to others") and expired records
    stay out of a document handed to third parties; one under objection still counts and is shown."""
    from backend.credit.models import CreditRecord

    department = factory.org("department")
    resident = factory.user("resident")
    for ref in ("stands", "disputed", "revoked", "repaired", "expired"):
        _record(session, settings, department, ref=ref, person_id=resident.person_id)
    for ref in ("disputed", "revoked", "repaired", "expired"):
        session.execute(CreditRecord.__table__.update().where(CreditRecord.source_ref == ref,
                                                              CreditRecord.person_id == resident.person_id)
                        .values(status=ref))
    session.commit()
    report = client.post("/api/v1/me/credit/reports", json={"purpose": "招投标"}, headers=resident.headers).json
    view = client.get(f"/api/v1/public/reports/{report['public_id']}").json
    assert view["valid"] is True
    assert sorted(r["status"] for r in view["records"]) == ["active", "disputed"]
    own = client.get("/api/v1/me/credit/records", headers=resident.headers)
    assert own.status_code == 200 and len(own.json["items"]) == 5  # the subject still sees all of them


def test_a_report_leaves_out_minor_records_and_those_past_their_publicity(client, factory, session, settings):
    from backend.credit.models import CreditRecord

    department = factory.org("department")
    resident = factory.user("resident")
    _record(session, settings, department, ref="general", person_id=resident.person_id)
    _record(session, settings, department, ref="minor", person_id=resident.person_id, severity="minor")
    _record(session, settings, department, ref="ended", person_id=resident.person_id)
    session.execute(CreditRecord.__table__.update().where(  # its publicity ended; the expiry job has not run
        CreditRecord.source_ref == "ended", CreditRecord.person_id == resident.person_id)
        .values(publicity_end=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    session.commit()
    report = client.post("/api/v1/me/credit/reports", json={"purpose": "招投标"}, headers=resident.headers).json
    view = client.get(f"/api/v1/public/reports/{report['public_id']}").json
    assert [(r["severity"], r["status"]) for r in view["records"]] == [("general", "active")]
