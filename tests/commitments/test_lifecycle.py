"""Lifecycle: the department marks fulfilled or breached; a breach writes one credit record; expiry."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from backend.commitments.models import Commitment
from backend.commitments.service import require_signed_repair_commitment
from backend.credit.models import CreditRecord
from backend.errors import Invalid, NotFound
from tests.commitments.conftest import draft, publish, signed


def _url(desk, commitment_id, action):
    return f"/api/v1/departments/{desk.dept_id}/commitments/{commitment_id}/{action}"


def test_the_department_marks_a_commitment_fulfilled(client, factory, desk):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    for blank in ("", " \u200b\u3164 "):  # a reason, when given, must show something
        refused = client.post(_url(desk, commitment["id"], "fulfil"), json={"reason": blank},
                              headers=desk.officer.headers)
        assert refused.status_code == 422, refused.json
    response = client.post(_url(desk, commitment["id"], "fulfil"), json={"reason": "  按期补齐材料 "},
                           headers=desk.officer.headers)
    assert response.status_code == 200 and response.json["status"] == "fulfilled"
    assert response.json["fulfilment_reason"] == "按期补齐材料"  # trimmed
    again = client.post(_url(desk, commitment["id"], "fulfil"), json={}, headers=desk.officer.headers)
    assert again.status_code == 409 and again.json["code"] == "commitment_already_decided"
    public = client.get(f"/api/v1/public/commitments/{commitment['public_id']}").json
    assert public["status"] == "fulfilled" and public["valid"] is True


def test_a_fulfilled_commitment_found_false_is_breached_once(client, factory, desk, session):
    """DOMAIN: a breach, or a false commitment, writes a negative record; being marked fulfilled
    first does not shield a commitment later found false."""
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    fulfilled = client.post(_url(desk, commitment["id"], "fulfil"), json={"reason": "材料齐全"},
                            headers=desk.officer.headers)
    assert fulfilled.status_code == 200 and fulfilled.json["fulfilled_at"] == fulfilled.json["decided_at"]
    breached = client.post(_url(desk, commitment["id"], "breach"), json={"reason": "所交材料系伪造"},
                           headers=desk.officer.headers)
    assert breached.status_code == 200 and breached.json["status"] == "breached"
    # the fulfilment stays on record beside the breach that overturned it
    assert breached.json["decision_reason"] == "所交材料系伪造" and breached.json["fulfilment_reason"] == "材料齐全"
    assert breached.json["fulfilled_at"] == fulfilled.json["fulfilled_at"] != breached.json["decided_at"]
    again = client.post(_url(desk, commitment["id"], "breach"), json={"reason": "x"}, headers=desk.officer.headers)
    assert again.status_code == 409 and again.json["code"] == "commitment_already_decided"
    refulfil = client.post(_url(desk, commitment["id"], "fulfil"), json={}, headers=desk.officer.headers)
    assert refulfil.status_code == 409
    from sqlalchemy import func, select

    assert session.scalar(select(func.count()).select_from(CreditRecord).where(
        CreditRecord.source_ref == f"commitment:{commitment['id']}")) == 1
    session.rollback()


def test_an_officer_decides_no_commitment_of_their_own_or_their_enterprise(client, factory, desk, session):
    """Four eyes: neither the signer nor a member of the enterprise it binds marks it fulfilled or breached."""
    own = factory.user("officer", desk.department, verified=True)
    enterprise = factory.org("enterprise")
    factory.grant(own.account, enterprise, "admin")
    enterprise_id = enterprise.id
    session.rollback()
    mine = signed(client, own, desk.template["id"])
    theirs = signed(client, own, desk.template["id"], on_behalf_of=enterprise_id)
    for commitment in (mine, theirs):
        for action, body in (("fulfil", {}), ("breach", {"reason": "自查"})):
            refused = client.post(_url(desk, commitment["id"], action), json=body, headers=own.headers)
            assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
        assert client.post(_url(desk, commitment["id"], "fulfil"), json={},
                           headers=desk.officer.headers).status_code == 200  # a colleague may


def test_only_officers_of_the_template_department_decide(client, factory, desk):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    other = factory.org("department")
    other_officer = factory.user("officer", other)
    assert client.post(_url(desk, commitment["id"], "fulfil"), json={},
                       headers=other_officer.headers).status_code == 404
    assert client.post(f"/api/v1/departments/{other.id}/commitments/{commitment['id']}/fulfil", json={},
                       headers=other_officer.headers).status_code == 404
    assert client.post(_url(desk, commitment["id"], "fulfil"), json={},
                       headers=resident.headers).status_code == 404
    assert client.post(_url(desk, commitment["id"], "fulfil"), json={},
                       headers=factory.user("admin", desk.department).headers).status_code == 403


def test_drafts_are_not_visible_to_the_department(client, factory, desk):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    assert client.post(_url(desk, commitment["id"], "fulfil"), json={},
                       headers=desk.officer.headers).status_code == 404


def test_a_breach_writes_one_negative_commitment_record(client, factory, desk, session):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    response = client.post(_url(desk, commitment["id"], "breach"), json={"reason": "承诺材料虚假"},
                           headers=desk.officer.headers)
    assert response.status_code == 200 and response.json["status"] == "breached"
    record = session.scalars(select(CreditRecord)).one()
    assert record.category == "commitment_breach" and record.polarity == "negative"
    assert record.person_id == resident.person_id and record.source_org_id == desk.dept_id
    assert record.source_ref == f"commitment:{commitment['id']}" and "承诺材料虚假" in record.decision
    assert response.json["credit_record_id"] == record.id
    session.rollback()
    mine = client.get("/api/v1/me/credit/records", headers=resident.headers)
    assert mine.status_code == 200 and [i["category"] for i in mine.json["items"]] == ["commitment_breach"]


def test_a_breach_needs_a_reason(client, factory, desk):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    response = client.post(_url(desk, commitment["id"], "breach"), json={}, headers=desk.officer.headers)
    assert response.status_code == 422


def test_a_breach_marked_twice_concurrently_writes_exactly_one_record(app, factory, desk, session):
    resident = factory.user("resident")
    commitment = signed(app.test_client(), resident, desk.template["id"])

    def mark(i):
        return app.test_client().post(_url(desk, commitment["id"], "breach"), json={"reason": f"违约 {i}"},
                                      headers=desk.officer.headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(mark, range(6)))
    assert statuses.count(200) == 1 and statuses.count(409) == 5
    assert session.scalar(select(func.count()).select_from(CreditRecord)) == 1
    session.rollback()


def test_an_enterprise_breach_lands_on_the_enterprise(client, factory, desk, session):
    enterprise = factory.org("enterprise")
    admin = factory.user("admin", enterprise)
    commitment = signed(client, admin, desk.template["id"], on_behalf_of=enterprise.id)
    assert client.post(_url(desk, commitment["id"], "breach"), json={"reason": "虚假承诺"},
                       headers=desk.officer.headers).status_code == 200
    record = session.scalars(select(CreditRecord)).one()
    assert record.org_id == enterprise.id and record.person_id is None
    session.rollback()


def test_signed_commitments_expire_after_their_validity(app, client, factory, desk, session):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    session.execute(update(Commitment).where(Commitment.id == commitment["id"]).values(valid_until=past))
    session.commit()
    assert client.get(f"/api/v1/public/commitments/{commitment['public_id']}").json["status"] == "expired"
    result = app.test_cli_runner().invoke(args=["seal", "expire-commitments"])
    assert result.exit_code == 0 and "expired 1" in result.output
    assert session.get(Commitment, commitment["id"]).status == "expired"
    session.rollback()
    late = client.post(_url(desk, commitment["id"], "breach"), json={"reason": "事后发现虚假"},
                       headers=desk.officer.headers)
    assert late.status_code == 200 and late.json["status"] == "breached"


def test_a_signed_credit_repair_commitment_of_the_person_passes_the_contract(client, factory, desk, session):
    resident, other = factory.user("resident"), factory.user("resident")
    repair = publish(client, desk.department, desk.officer, type="credit_repair")
    commitment = signed(client, resident, repair["id"])
    plain = signed(client, resident, desk.template["id"])
    unsigned = draft(client, resident, repair["id"])
    require_signed_repair_commitment(session=session, commitment_id=commitment["id"], subject_id=resident.person_id)
    with pytest.raises(NotFound):
        require_signed_repair_commitment(session=session, commitment_id=commitment["id"], subject_id=other.person_id)
    with pytest.raises(NotFound):
        require_signed_repair_commitment(session=session, commitment_id="cmt_nope", subject_id=resident.person_id)
    with pytest.raises(Invalid) as wrong_type:
        require_signed_repair_commitment(session=session, commitment_id=plain["id"], subject_id=resident.person_id)
    assert wrong_type.value.code == "not_repair_commitment"
    with pytest.raises(Invalid) as not_signed:
        require_signed_repair_commitment(session=session, commitment_id=unsigned["id"], subject_id=resident.person_id)
    assert not_signed.value.code == "commitment_not_signed"
    session.rollback()


def test_department_lists_its_signed_commitments(client, factory, desk):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    draft(client, resident, desk.template["id"])
    listing = client.get(f"/api/v1/departments/{desk.dept_id}/commitments", headers=desk.officer.headers)
    assert [i["id"] for i in listing.json["items"]] == [commitment["id"]]
    one = client.get(f"/api/v1/departments/{desk.dept_id}/commitments/{commitment['id']}",
                     headers=desk.officer.headers)
    assert one.status_code == 200 and one.json["public_id"] == commitment["public_id"]


def test_a_repair_application_accepts_only_a_signed_repair_commitment_of_the_applicant(client, factory, desk,
                                                                                       session, settings):
    from backend.credit import service as credit_service

    resident, other = factory.user("resident"), factory.user("resident")

    def penalty(ref):
        record, _ = credit_service.record_event(
            session=session, settings=settings, source_org_id=desk.dept_id, category="administrative_penalty",
            source_ref=ref, occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=200), decision="罚款",
            severity="general", subject_person_id=resident.person_id)
        record_id = record.id
        session.commit()
        return record_id

    record_id = penalty("pen-1")
    repair_template = publish(client, desk.department, desk.officer, type="credit_repair")
    mine = signed(client, resident, repair_template["id"])
    plain = signed(client, resident, desk.template["id"])
    theirs = signed(client, other, repair_template["id"])

    def apply(commitment_id, record=record_id):
        return client.post("/api/v1/me/credit/repairs", json={"record_id": record, "statement": "已缴清罚款",
                                                              "commitment_id": commitment_id},
                           headers=resident.headers)

    assert apply(theirs["id"]).status_code == 404
    wrong = apply(plain["id"])
    assert wrong.status_code == 422 and wrong.json["code"] == "not_repair_commitment"
    ok = apply(mine["id"])
    assert ok.status_code == 201 and ok.json["commitment_id"] == mine["id"]
    reused = apply(mine["id"], record=penalty("pen-2"))
    assert reused.status_code == 409 and reused.json["code"] == "commitment_in_use"
