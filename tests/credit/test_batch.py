"""Department batch ingestion: per-item results, idempotency, subjects without accounts."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.credit import service as credit_service
from backend.credit.models import CreditRecord
from backend.credit.schemas import BatchResultSchema
from backend.credit.service import core
from backend.identity.models import Organisation, Person
from tests.credit.conftest import Dept, item
from tests.factories import Factory, invalid_id_number, valid_credit_code, valid_id_number


def test_batch_reports_created_duplicate_and_error_per_item(client: FlaskClient, dept: Dept,
                                                            factory: Factory) -> None:
    resident = factory.user("resident")
    body = {"records": [
        item("R-1", id_number=resident.id_number),
        item("R-2", id_number=invalid_id_number()),
        item("R-3", id_number=resident.id_number, category="no_such_category"),
        item("R-4", id_number=resident.id_number, category="black_list", severity="minor"),
        item("R-5", id_number=resident.id_number, category="volunteer_service", severity=None),
        item("R-1", id_number=resident.id_number),
        {"source_ref": "R-6", "category": "honour", "occurred_at": "2026-01-01T00:00:00Z", "decision": "x"},
        item("R-7", id_number=resident.id_number, occurred_at="2999-01-01T00:00:00Z"),
        item("R-8", id_number=resident.id_number, category="inspection", severity=None),
    ]}
    resp = client.post(dept.batch_url(), json=body, headers=dept.headers)
    assert resp.status_code == 200, resp.json
    results = [(i["source_ref"], i["result"], (i.get("error") or {}).get("code")) for i in resp.json["items"]]
    assert results == [
        ("R-1", "created", None), ("R-2", "error", "invalid_id_number"), ("R-3", "error", "unknown_category"),
        ("R-4", "error", "invalid_severity"), ("R-5", "created", None), ("R-1", "duplicate", None),
        ("R-6", "error", "subject_required"), ("R-7", "error", "occurred_in_future"),
        ("R-8", "error", "invalid_polarity"),
    ]
    assert (resp.json["created"], resp.json["duplicate"], resp.json["error"]) == (2, 1, 6)
    assert BatchResultSchema().load(resp.json)["created"] == 2  # exactly the documented shape, nothing more
    assert resp.json["items"][5]["id"] == resp.json["items"][0]["id"]

    again = client.post(dept.batch_url(), json=body, headers=dept.headers)
    assert [i["result"] for i in again.json["items"]][:1] == ["duplicate"]
    assert again.json["created"] == 0

    me = client.get("/api/v1/me/credit", headers=resident.headers)
    assert me.json["score"] == 620 - 40 + 10  # the general penalty and the volunteer record


def test_records_for_a_person_without_account_show_up_after_verification(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    number = valid_id_number()
    resp = client.post(dept.batch_url(), json={"records": [item("N-1", id_number=number)]}, headers=dept.headers)
    assert resp.json["items"][0]["result"] == "created"
    later = factory.user("resident", id_number=number)
    records = client.get("/api/v1/me/credit/records", headers=later.headers)
    assert [r["source_ref"] for r in records.json["items"]] == ["N-1"]
    credit = client.get("/api/v1/me/credit", headers=later.headers)
    assert (credit.json["score"], credit.json["level"]) == (580, "B")


def test_a_credit_code_without_organisation_gets_an_enterprise_stub(
        client: FlaskClient, dept: Dept, session: Session) -> None:
    code = valid_credit_code()
    resp = client.post(dept.batch_url(), json={"records": [
        item("E-1", credit_code=code, category="administrative_license", severity=None)]}, headers=dept.headers)
    assert resp.json["items"][0]["result"] == "created"
    org = session.scalars(select(Organisation).where(Organisation.credit_code == code)).one()
    kind, region = org.kind, org.region_code
    session.rollback()
    assert kind == "enterprise" and region == code[2:8]
    wrong = next(c for c in "0123456789" if c != code[-1])
    bad = client.post(dept.batch_url(), json={"records": [item("E-2", credit_code=code[:-1] + wrong)]},
                      headers=dept.headers)
    assert bad.json["items"][0]["error"]["code"] == "invalid_credit_code"


def test_a_batch_over_the_limit_is_rejected_whole(client: FlaskClient, dept: Dept) -> None:
    body = {"records": [item(f"L-{i}", id_number=valid_id_number()) for i in range(1001)]}
    resp = client.post(dept.batch_url(), json=body, headers=dept.headers)
    assert resp.status_code == 422 and resp.json["code"] == "too_many_records"


def test_a_malformed_batch_body_is_a_422_problem(client: FlaskClient, dept: Dept) -> None:
    for body in ({}, {"records": []}, {"records": "x"}, {"records": [1, None, "a"]}):
        resp = client.post(dept.batch_url(), json=body, headers=dept.headers)
        if body.get("records") == [1, None, "a"]:
            assert resp.status_code == 200
            assert {i["error"]["code"] for i in resp.json["items"]} == {"invalid_record"}
        else:
            assert resp.status_code == 422, body
            assert resp.content_type == "application/problem+json"


def test_only_officers_of_that_department_may_ingest(client: FlaskClient, dept: Dept, factory: Factory) -> None:
    other = factory.org("department")
    other_officer = factory.user("officer", other)
    admin = factory.user("admin", factory.session.get(Organisation, dept.id))
    body = {"records": [item("A-1", id_number=valid_id_number())]}
    assert client.post(dept.batch_url(), json=body, headers=other_officer.headers).status_code == 404
    assert client.post(dept.batch_url(), json=body, headers=admin.headers).status_code == 403
    assert client.post(dept.batch_url(), json=body).status_code == 401
    resident = factory.user("resident")
    assert client.post(dept.batch_url(), json=body, headers=resident.headers).status_code == 404


def test_two_concurrent_identical_batches_create_each_record_once(
        app: Flask, dept: Dept, session: Session) -> None:
    numbers = [valid_id_number() for _ in range(5)]
    body = {"records": [item(f"C-{i}", id_number=numbers[i % 5]) for i in range(40)]}

    def send(_: int) -> Any:
        resp = app.test_client().post(dept.batch_url(), json=body, headers=dept.headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = list(pool.map(send, range(2)))
    assert a["created"] + b["created"] == 40
    assert a["duplicate"] + b["duplicate"] == 40
    assert [i["id"] for i in a["items"]] == [i["id"] for i in b["items"]]
    count = session.scalar(select(func.count()).select_from(CreditRecord))
    session.rollback()
    assert count == 40


def test_two_concurrent_batches_naming_the_same_records_in_opposite_orders_do_not_deadlock(
        app: Flask, dept: Dept, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = [valid_id_number() for _ in range(20)]
    records = [item(f"O-{i:03d}", id_number=numbers[i % 20]) for i in range(300)]
    known = app.test_client().post(dept.batch_url(), headers=dept.headers, json={  # persons exist: nothing waits
        "records": [item(f"P-{i}", id_number=n) for i, n in enumerate(numbers)]})  # before the INSERTs
    assert known.json["created"] == 20
    if app.extensions["engine"].dialect.name == "postgresql":  # (SQLite runs one writer at a time)
        both_ready = threading.Barrier(2, timeout=10)
        insert_records = core._insert_records

        def insert_together(*args: Any) -> set[str]:  # both INSERTs at once: the order of their rows decides
            both_ready.wait()
            return insert_records(*args)

        monkeypatch.setattr(core, "_insert_records", insert_together)

    def send(body: dict[str, Any]) -> Any:
        resp = app.test_client().post(dept.batch_url(), json=body, headers=dept.headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = list(pool.map(send, [{"records": records}, {"records": records[::-1]}]))
    assert a["created"] + b["created"] == 300 and a["duplicate"] + b["duplicate"] == 300
    assert [i["id"] for i in a["items"]] == [i["id"] for i in b["items"]][::-1]
    count = session.scalar(select(func.count()).select_from(CreditRecord))
    session.rollback()
    assert count == 300 + 20


def test_a_record_committed_by_another_transaction_while_a_batch_scores_is_in_the_stored_score(
        app: Flask, client: FlaskClient, dept: Dept, factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch scores its subjects before it locks their standings; a change committed in between
    (here another department's record for the same resident) must be in the snapshot it stores."""
    if app.extensions["engine"].dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no other transaction can commit in between")
    resident = factory.user("resident")
    other_dept = factory.org("department")
    lock_standings = core._lock_standings
    interleaved: list[bool] = []

    def commit_another_record_first(session: Session, subject_ids: list[str]) -> Any:
        if not interleaved:
            interleaved.append(True)
            with app.extensions["session_factory"]() as other:
                credit_service.record_event(
                    session=other, settings=app.extensions["settings"], source_org_id=other_dept.id,
                    category="administrative_penalty", severity="minor", source_ref="OTHER-1",
                    occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10), decision="罚款 50 元",
                    subject_person_id=resident.person_id)
                other.commit()
        return lock_standings(session, subject_ids)

    monkeypatch.setattr(core, "_lock_standings", commit_another_record_first)
    resp = client.post(dept.batch_url(), json={"records": [item("I-1", id_number=resident.id_number)]},
                       headers=dept.headers)
    assert resp.json["created"] == 1 and interleaved
    me = client.get("/api/v1/me/credit", headers=resident.headers).json
    assert me["score"] == 620 - 40 - 10  # both penalties
    history = client.get("/api/v1/me/credit/history", headers=resident.headers).json["items"]
    assert [(h["score"], h["previous_score"]) for h in history[:2]] == [(570, 610), (610, 620)]


def test_a_batch_naming_a_new_person_does_not_wait_for_another_batch_naming_the_same_person(
        app: Flask, dept: Dept, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    if app.extensions["engine"].dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: batches always queue")
    number = valid_id_number()
    second_done = threading.Event()
    insert_records = core._insert_records

    def first_holds_its_transaction(session: Session, rows: list[dict[str, Any]]) -> set[str]:
        if rows[0]["source_ref"] == "W-1":  # the first batch, its person created: wait for the second
            second_done.wait(timeout=10)
        return insert_records(session, rows)

    monkeypatch.setattr(core, "_insert_records", first_holds_its_transaction)

    def send(ref: str) -> Any:
        resp = app.test_client().post(dept.batch_url(), json={"records": [item(ref, id_number=number)]},
                                      headers=dept.headers)
        if ref == "W-2":
            second_done.set()
        return resp

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(send, "W-1")
        time.sleep(0.5)  # the first batch is waiting, its transaction open
        second = pool.submit(send, "W-2")
        assert second.result(timeout=8).json["created"] == 1  # did not queue behind the first
        assert first.result().json["created"] == 1
    persons = session.scalar(select(func.count()).select_from(Person))
    session.rollback()
    assert persons == 1  # created once (officers have no person)


def test_one_batch_may_mix_persons_and_enterprises(client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    code = valid_credit_code()
    body = {"records": [
        item("M-1", credit_code=code, category="administrative_license", severity=None),
        item("M-2", id_number=resident.id_number),
        item("M-3", credit_code=code),
    ]}
    resp = client.post(dept.batch_url(), json=body, headers=dept.headers)
    assert resp.status_code == 200, resp.json
    assert [i["result"] for i in resp.json["items"]] == ["created"] * 3
    assert client.get("/api/v1/me/credit", headers=resident.headers).json["score"] == 580
    org_id = factory.session.scalars(select(Organisation.id).where(Organisation.credit_code == code)).one()
    factory.session.rollback()
    officer_view = client.get(f"/api/v1/enterprises/{org_id}/credit", headers=dept.headers)
    assert officer_view.status_code == 200, officer_view.json
    assert officer_view.json["score"] == 80 + 1 - 10  # one licence, one general penalty


def test_department_lists_its_records_with_filters(client: FlaskClient, dept: Dept, factory: Factory) -> None:
    r1, r2 = factory.user("resident"), factory.user("resident")
    client.post(dept.batch_url(), json={"records": [
        item("F-1", id_number=r1.id_number), item("F-2", id_number=r2.id_number, category="honour", severity=None),
    ]}, headers=dept.headers)
    url = f"/api/v1/departments/{dept.id}/records"
    assert len(client.get(url, headers=dept.headers).json["items"]) == 2
    only = client.get(url, query_string={"subject": r1.person_id}, headers=dept.headers).json["items"]
    assert [r["source_ref"] for r in only] == ["F-1"]
    by_number = client.get(url, query_string={"subject": r1.id_number}, headers=dept.headers).json["items"]
    assert [r["source_ref"] for r in by_number] == ["F-1"]
    for typo in (invalid_id_number(), "bogus"):  # a mistyped subject is an error, not "no records"
        refused = client.get(url, query_string={"subject": typo}, headers=dept.headers)
        assert refused.status_code == 422 and refused.json["code"] == "invalid_subject", typo
    honours = client.get(url, query_string={"category": "honour"}, headers=dept.headers).json["items"]
    assert [r["source_ref"] for r in honours] == ["F-2"]
    other = factory.org("department")
    other_officer = factory.user("officer", other)
    assert client.get(f"/api/v1/departments/{other.id}/records", headers=other_officer.headers).json["items"] == []
    assert client.get(url, headers=other_officer.headers).status_code == 404


def test_a_retried_batch_with_the_same_idempotency_key_replays_the_first_answer(
        client: FlaskClient, dept: Dept) -> None:
    body = {"records": [item("K-1", id_number=valid_id_number())]}
    headers = {**dept.headers, "Idempotency-Key": "batch-2026-11-23-001"}
    first = client.post(dept.batch_url(), json=body, headers=headers)
    again = client.post(dept.batch_url(), json=body, headers=headers)
    assert first.json["items"][0]["result"] == "created"
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"


def test_a_reference_reused_for_another_subject_is_an_error_not_a_duplicate(client, dept, factory) -> None:
    """Re-sending a record reports duplicate; the same source_ref naming another person (in the batch
    or later) would silently drop that person's record, so it is that item's error."""
    from tests.credit.conftest import item

    first, second = factory.user("resident"), factory.user("resident")
    batch = client.post(dept.batch_url(), json={"records": [item("REF-1", id_number=first.id_number),
                                                            item("REF-1", id_number=second.id_number),
                                                            item("REF-1", id_number=first.id_number)]},
                        headers=dept.headers).json["items"]
    assert [i["result"] for i in batch] == ["created", "error", "duplicate"]
    assert batch[1]["error"] == {"code": "source_ref_conflict", "record_id": batch[0]["id"]}
    again = client.post(dept.batch_url(), json={"records": [item("REF-1", id_number=second.id_number),
                                                            item("REF-1", id_number=first.id_number)]},
                        headers=dept.headers).json["items"]
    assert [i["result"] for i in again] == ["error", "duplicate"]
    assert again[0]["error"]["code"] == "source_ref_conflict" and again[1]["id"] == batch[0]["id"]


def test_a_refused_reference_keeps_no_id_number_it_brought(client, dept, session) -> None:
    """An ID number first seen in an item refused as source_ref_conflict gets no person row: the
    platform keeps no one's ID number without a record to show for it."""
    def persons() -> int:
        count = session.scalar(select(func.count()).select_from(Person))
        session.rollback()
        return count

    known, stranger, newcomer = valid_id_number(), valid_id_number(), valid_id_number()
    first = client.post(dept.batch_url(), json={"records": [
        item("REF-A", id_number=known), item("REF-A", id_number=stranger)]}, headers=dept.headers).json["items"]
    assert [i["result"] for i in first] == ["created", "error"] and first[1]["error"] == {
        "code": "source_ref_conflict", "record_id": first[0]["id"]}
    before = persons()
    later = client.post(dept.batch_url(), json={"records": [
        item("REF-A", id_number=stranger), item("REF-B", id_number=newcomer), item("REF-A", id_number=known)]},
        headers=dept.headers).json["items"]
    assert [i["result"] for i in later] == ["error", "created", "duplicate"]
    assert later[0]["error"] == {"code": "source_ref_conflict", "record_id": first[0]["id"]}
    assert persons() == before + 1  # the newcomer only; the stranger was never stored
    # the stranger's number is still free: a record of their own later creates them
    own = client.post(dept.batch_url(), json={"records": [item("REF-C", id_number=stranger)]},
                      headers=dept.headers).json["items"]
    assert own[0]["result"] == "created" and persons() == before + 2


def test_a_refused_reference_makes_no_enterprise_stub(client, dept, session) -> None:
    """Nor a credit code: a stub enterprise would be graded and drawn for inspection."""
    def stubs(code: str) -> int:
        count = session.scalar(select(func.count()).select_from(Organisation).where(Organisation.credit_code == code))
        session.rollback()
        return count

    taken = client.post(dept.batch_url(), json={"records": [item("ENT-REF", id_number=valid_id_number())]},
                        headers=dept.headers).json["items"][0]
    code, other = valid_credit_code(), valid_credit_code()
    refused = client.post(dept.batch_url(), json={"records": [
        item("ENT-REF", credit_code=code, category="administrative_license", severity=None),
        item("ENT-NEW", credit_code=other, category="administrative_license", severity=None)]},
        headers=dept.headers).json["items"]
    assert refused[0]["error"] == {"code": "source_ref_conflict", "record_id": taken["id"]}
    assert refused[1]["result"] == "created"
    assert (stubs(code), stubs(other)) == (0, 1)


def test_an_officer_files_no_record_about_themselves_or_their_enterprise(client, factory) -> None:
    """Four eyes on the way in: a red-list record about oneself would unlock red-list-only offers."""
    from tests.credit.conftest import Dept, item

    org = factory.org("department")
    officer = factory.user("officer", org, verified=True)
    enterprise = factory.org("enterprise")
    factory.grant(officer.account, enterprise, "admin")
    dept = Dept(id=org.id, officer=officer)
    other = factory.user("resident")
    items = client.post(dept.batch_url(), json={"records": [
        item("SELF-RED", id_number=officer.id_number, category="red_list", severity=None),
        item("OWN-ENT", credit_code=enterprise.credit_code),
        item("OTHER", id_number=other.id_number)]}, headers=dept.headers).json["items"]
    assert [(i["result"], (i["error"] or {}).get("code")) for i in items] == [
        ("error", "conflict_of_interest"), ("error", "conflict_of_interest"), ("created", None)]
    colleague = factory.user("officer", org)
    assert client.post(dept.batch_url(), json={"records": [
        item("SELF-RED", id_number=officer.id_number, category="red_list", severity=None)]},
        headers=colleague.headers).json["items"][0]["result"] == "created"
