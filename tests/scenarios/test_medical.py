"""信用+医疗: hospital policy, eligibility, visits, charges within one line across hospitals, bills, overdue."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from backend.credit.models import CreditQuery, CreditRecord
from scenarios.eligibility import local_date
from scenarios.models import MedicalBill, MedicalCharge
from tests.scenarios.helpers import (
    API,
    add_records,
    black_list,
    code_for,
    make_hospital,
    raise_to,
    standing,
)


def _visit(client, hospital, resident):
    response = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                           headers=hospital.clinician.headers)
    assert response.status_code == 201, response.json
    return response.json


def _charge(client, hospital, visit_id, amount, **headers):
    return client.post(f"{hospital.base}/visits/{visit_id}/charges", json={"amount_fen": amount, "item": "检查费"},
                       headers={**hospital.billing.headers, **headers})


def _bill(client, hospital, resident, amount):
    visit = _visit(client, hospital, resident)
    assert _charge(client, hospital, visit["id"], amount).status_code == 201
    settled = client.post(f"{hospital.base}/visits/{visit['id']}/settle", headers=hospital.billing.headers)
    assert settled.status_code == 201, settled.json
    return settled.json


def _pay(client, hospital, bill_id, amount, key=None):
    headers = dict(hospital.billing.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(f"{hospital.base}/bills/{bill_id}/payments", json={"amount_fen": amount, "method": "wechat"},
                       headers=headers)


def test_mark_overdue_refuses_a_day_that_has_not_come(app) -> None:
    tomorrow = local_date(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)
    result = app.test_cli_runner().invoke(args=["medical", "mark-overdue", "--as-of", tomorrow.isoformat()])
    assert result.exit_code == 1 and "invalid_as_of" in result.output and "Usage" not in result.output
    assert len(result.output.strip().splitlines()) == 1  # one line, as every refusal of a job
    malformed = app.test_cli_runner().invoke(args=["medical", "mark-overdue", "--as-of", "2026-02-30"])
    assert malformed.exit_code == 2  # a malformed argument stays a usage error


def _mark_overdue(app, day):
    result = app.test_cli_runner().invoke(args=["medical", "mark-overdue", "--as-of", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_hospital_starts_with_the_default_policy_and_its_admin_changes_it(client, factory) -> None:
    hospital = make_hospital(factory)
    url = f"{hospital.base}/credit-policy"
    policy = client.get(url, headers=hospital.admin.headers)
    assert policy.status_code == 200 and policy.json["is_default"] is True
    assert policy.json["lines_fen"] == {"A": 100000, "AA": 200000, "AAA": 300000}
    assert policy.json["min_level"] == "A" and policy.json["repayment_days"] == 10
    body = {"min_level": "AA", "lines_fen": {"A": 0, "AA": 150000, "AAA": 250000}, "repayment_days": 15}
    assert client.put(url, json=body, headers=hospital.clinician.headers).status_code == 403
    assert client.put(url, json=body, headers=make_hospital(factory).admin.headers).status_code == 404
    saved = client.put(url, json=body, headers=hospital.admin.headers)
    assert saved.status_code == 200 and saved.json["is_default"] is False
    assert client.get(url, headers=hospital.billing.headers).json["lines_fen"]["AA"] == 150000
    bad = client.put(url, json={**body, "lines_fen": {"A": 300000, "AA": 200000, "AAA": 100000}},
                     headers=hospital.admin.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_policy"
    for case in ({**body, "min_level": "B"}, {**body, "repayment_days": 0}, {**body, "lines_fen": {"A": 1}},
                 {**body, "lines_fen": {"A": 1.5, "AA": 2, "AAA": 3}}):
        assert client.put(url, json=case, headers=hospital.admin.headers).status_code == 422


def test_eligibility_shows_level_and_line_without_using_the_code_and_is_logged(client, factory, session) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident", name="欧阳明华")
    code = code_for(client, resident)
    response = client.post(f"{hospital.base}/eligibility", json={"code": code}, headers=hospital.clinician.headers)
    assert response.status_code == 200
    assert response.json == {"eligible": True, "level": "A", "level_name": "中等", "line_fen": 100000,
                             "available_fen": 100000, "reason": None, "name_masked": "欧***"}
    assert client.post(f"{hospital.base}/eligibility", json={"code": code},
                       headers=hospital.billing.headers).status_code == 403
    visit = client.post(f"{hospital.base}/visits", json={"code": code}, headers=hospital.clinician.headers)
    assert visit.status_code == 201 and visit.json["status"] == "open"
    reused = client.post(f"{hospital.base}/visits", json={"code": code}, headers=hospital.clinician.headers)
    assert reused.status_code == 409 and reused.json["code"] == "qr_already_used"
    purposes = session.scalars(select(CreditQuery.purpose).where(CreditQuery.person_id == resident.person_id)).all()
    session.commit()
    assert set(purposes) == {"medical"}


def test_below_the_policy_level_or_black_listed_means_no_visit(client, factory, session, settings) -> None:
    hospital = make_hospital(factory)
    client.put(f"{hospital.base}/credit-policy", headers=hospital.admin.headers,
               json={"min_level": "AA", "lines_fen": {"A": 0, "AA": 200000, "AAA": 300000}, "repayment_days": 10})
    resident = factory.user("resident")
    check = client.post(f"{hospital.base}/eligibility", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    assert check["eligible"] is False and check["reason"] == "level_too_low" and check["available_fen"] == 0
    refused = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                          headers=hospital.clinician.headers)
    assert refused.status_code == 403 and refused.json["reason"] == "level_too_low"
    raise_to(session, settings, factory, resident.person_id, "AAA")
    black_list(session, settings, factory, resident.person_id)
    check = client.post(f"{hospital.base}/eligibility", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    assert (check["eligible"], check["reason"], check["level"], check["line_fen"]) == (False, "black_listed", "C", 0)


def test_charges_stop_at_the_line_then_settle_into_a_bill_due_after_the_window(client, factory) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")
    visit = _visit(client, hospital, resident)
    assert _charge(client, hospital, visit["id"], 1000, **{}).status_code == 201
    assert client.post(f"{hospital.base}/visits/{visit['id']}/charges", json={"amount_fen": 1, "item": "x"},
                       headers=hospital.clinician.headers).status_code == 403
    over = _charge(client, hospital, visit["id"], 99_001)
    assert over.status_code == 409 and over.json["code"] == "credit_line_exceeded"
    assert over.json["available_fen"] == 99_000
    assert over.json["available_yuan"] == "990.00" and "990.00 元" in over.json["detail"]  # 分 means points too
    assert _charge(client, hospital, visit["id"], 99_000).status_code == 201
    for bad in ({"amount_fen": 0, "item": "x"}, {"amount_fen": -5, "item": "x"}, {"amount_fen": "10", "item": "x"},
                {"amount_fen": 10}):
        assert client.post(f"{hospital.base}/visits/{visit['id']}/charges", json=bad,
                           headers=hospital.billing.headers).status_code == 422
    bill = client.post(f"{hospital.base}/visits/{visit['id']}/settle", headers=hospital.billing.headers)
    assert bill.status_code == 201
    assert bill.json["amount_fen"] == 100_000 and bill.json["outstanding_fen"] == 100_000
    assert bill.json["status"] == "open"
    assert bill.json["due_date"] == (local_date(dt.datetime.now(dt.UTC)) + dt.timedelta(days=10)).isoformat()
    late = _charge(client, hospital, visit["id"], 1)
    assert late.status_code == 409 and late.json["code"] == "visit_not_open"
    again = client.post(f"{hospital.base}/visits/{visit['id']}/settle", headers=hospital.billing.headers)
    assert again.status_code == 409
    shown = client.get(f"{hospital.base}/visits/{visit['id']}", headers=hospital.billing.headers).json
    assert [c["amount_fen"] for c in shown["charges"]] == [1000, 99_000] and shown["bill"]["id"] == bill.json["id"]
    other = make_hospital(factory)
    assert client.get(f"{other.base}/visits/{visit['id']}", headers=other.billing.headers).status_code == 404
    assert client.post(f"{other.base}/bills/{bill.json['id']}/payments", json={"amount_fen": 1, "method": "cash"},
                       headers=other.billing.headers).status_code == 404


def test_an_empty_visit_cannot_be_settled(client, factory) -> None:
    hospital = make_hospital(factory)
    visit = _visit(client, hospital, factory.user("resident"))
    response = client.post(f"{hospital.base}/visits/{visit['id']}/settle", headers=hospital.billing.headers)
    assert response.status_code == 422 and response.json["code"] == "visit_has_no_charges"


def test_twenty_concurrent_charges_across_two_hospitals_never_exceed_the_line(app, client, factory, session) -> None:
    first, second = make_hospital(factory), make_hospital(factory)
    resident = factory.user("resident")  # level A: line 100,000 fen at both hospitals' default policy
    visits = [(first, _visit(client, first, resident)["id"]), (second, _visit(client, second, resident)["id"])]

    def charge(i):
        hospital, visit_id = visits[i % 2]
        response = app.test_client().post(f"{hospital.base}/visits/{visit_id}/charges",
                                          json={"amount_fen": 15_000, "item": f"项目{i}"},
                                          headers=hospital.billing.headers)
        return response.status_code, (response.json or {}).get("code")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(charge, range(20)))
    assert [s for s, _ in results].count(201) == 6  # 6 x 15,000 = 90,000 <= 100,000 < 7 x 15,000
    assert {c for s, c in results if s != 201} == {"credit_line_exceeded"}
    assert session.scalar(select(func.sum(MedicalCharge.amount_fen))) == 90_000
    session.commit()
    check = client.post(f"{first.base}/eligibility", json={"code": code_for(client, resident)},
                        headers=first.clinician.headers).json
    assert check["available_fen"] == 10_000


def test_partial_payments_overpayment_and_idempotent_replay(client, factory) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")
    bill = _bill(client, hospital, resident, 30_000)
    part = _pay(client, hospital, bill["id"], 10_000, key="pay-1")
    assert part.status_code == 201 and part.json["outstanding_fen"] == 20_000 and part.json["bill_status"] == "open"
    replay = _pay(client, hospital, bill["id"], 10_000, key="pay-1")
    assert replay.json["id"] == part.json["id"] and replay.headers.get("Idempotent-Replayed") == "true"
    reused = _pay(client, hospital, bill["id"], 5_000, key="pay-1")
    assert reused.status_code == 422 and reused.json["code"] == "idempotency_key_reused"
    over = _pay(client, hospital, bill["id"], 20_001)
    assert over.status_code == 422 and over.json["code"] == "overpayment" and over.json["outstanding_fen"] == 20_000
    assert "200.00 元" in over.json["detail"]
    rest = _pay(client, hospital, bill["id"], 20_000)
    assert rest.status_code == 201 and rest.json["bill_status"] == "paid" and rest.json["outstanding_fen"] == 0
    assert _pay(client, hospital, bill["id"], 1).json["code"] == "bill_already_paid"
    bad = client.post(f"{hospital.base}/bills/{bill['id']}/payments", json={"amount_fen": 5, "method": "gold"},
                      headers=hospital.billing.headers)
    assert bad.status_code == 422
    mine = client.get(f"{API}/me/medical/bills", headers=resident.headers)
    assert mine.status_code == 200
    [item] = mine.json["items"]
    assert item["id"] == bill["id"] and item["status"] == "paid" and item["hospital_name"] == hospital.name
    # each payment once, oldest first: the replay and the refused ones left none
    assert [(p["id"], p["amount_fen"]) for p in item["payments"]] == [
        (part.json["id"], 10_000), (rest.json["id"], 20_000)]
    one = client.get(f"{hospital.base}/bills/{bill['id']}", headers=hospital.billing.headers).json
    assert [p["amount_fen"] for p in one["payments"]] == [10_000, 20_000]
    visit = client.get(f"{hospital.base}/visits/{bill['visit_id']}", headers=hospital.billing.headers).json
    assert visit["bill"]["hospital_name"] == hospital.name  # the visit's bill is the same view
    assert [p["amount_fen"] for p in visit["bill"]["payments"]] == [10_000, 20_000]
    assert client.get(f"{API}/me/medical/bills", headers=factory.user("resident").headers).json["items"] == []
    listed = client.get(f"{hospital.base}/bills?status=paid", headers=hospital.billing.headers).json["items"]
    assert [b["id"] for b in listed] == [bill["id"]] and listed[0]["name_masked"].endswith("*")


def test_a_used_up_line_is_not_eligible_and_paying_frees_it_for_the_next_visit(client, factory) -> None:
    hospital = make_hospital(factory)
    other = make_hospital(factory)
    resident = factory.user("resident")
    bill = _bill(client, hospital, resident, 100_000)  # the whole A line (DOMAIN default) is owed
    for place in (hospital, other):  # the line is the person's, across hospitals
        check = client.post(f"{place.base}/eligibility", json={"code": code_for(client, resident)},
                            headers=place.clinician.headers).json
        assert (check["eligible"], check["reason"], check["line_fen"], check["available_fen"]) == (
            False, "credit_line_used_up", 100_000, 0)
        refused = client.post(f"{place.base}/visits", json={"code": code_for(client, resident)},
                              headers=place.clinician.headers)
        assert refused.status_code == 403 and refused.json["reason"] == "credit_line_used_up"
    _pay(client, hospital, bill["id"], 40_000)
    visit = _visit(client, other, resident)
    assert (visit["line_fen"], visit["available_fen"]) == (100_000, 40_000)
    assert _charge(client, other, visit["id"], 40_001).json["code"] == "credit_line_exceeded"
    assert _charge(client, other, visit["id"], 40_000).status_code == 201
    # the line is used up again inside the open visit: a further charge is 409, not 403
    assert _charge(client, other, visit["id"], 1).json["code"] == "credit_line_exceeded"
    shown = client.get(f"{other.base}/visits/{visit['id']}", headers=other.billing.headers).json
    assert (shown["line_fen"], shown["available_fen"], shown["total_fen"]) == (100_000, 0, 40_000)


def test_mark_overdue_writes_one_default_record_suspends_and_paying_restores(
        app, client, factory, session, settings) -> None:
    hospital = make_hospital(factory)
    resident = factory.user("resident")
    add_records(session, settings, factory.org("department"), resident.person_id, "volunteer_service", 3)
    before = standing(session, resident.person_id)
    assert (before.score, before.level) == (650, "A")
    bill = _bill(client, hospital, resident, 20_000)
    # The job judges days that have passed (a future --as-of is refused): let the bill have fallen due
    # the day before yesterday.
    due = local_date(dt.datetime.now(dt.UTC)) - dt.timedelta(days=2)
    session.execute(update(MedicalBill).where(MedicalBill.id == bill["id"]).values(due_date=due))
    session.commit()

    assert "marked 0" in _mark_overdue(app, due)  # the due day itself is not late
    assert bill["id"] in _mark_overdue(app, due + dt.timedelta(days=1))
    assert "marked 0" in _mark_overdue(app, due + dt.timedelta(days=2))  # run again: nothing new
    records = session.scalars(select(CreditRecord).where(CreditRecord.person_id == resident.person_id,
                                                         CreditRecord.category == "medical_credit_default")).all()
    session.commit()
    assert len(records) == 1
    assert records[0].source_org_id == hospital.id and records[0].source_ref == f"bill:{bill['id']}"
    assert records[0].severity == "general" and records[0].polarity == "negative"
    after = standing(session, resident.person_id)
    assert after.score == before.score - 40 and after.level == "A"

    mine = client.get(f"{API}/me/medical/bills", headers=resident.headers).json["items"]
    assert mine[0]["status"] == "overdue"
    check = client.post(f"{hospital.base}/eligibility", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    assert check["eligible"] is False and check["reason"] == "medical_credit_suspended"
    elsewhere = make_hospital(factory)  # suspended at every hospital
    refused = client.post(f"{elsewhere.base}/visits", json={"code": code_for(client, resident)},
                          headers=elsewhere.clinician.headers)
    assert refused.status_code == 403 and refused.json["reason"] == "medical_credit_suspended"

    assert _pay(client, hospital, bill["id"], 5_000).json["bill_status"] == "overdue"  # partly paid: still suspended
    assert _pay(client, hospital, bill["id"], 15_000).json["bill_status"] == "paid"
    check = client.post(f"{hospital.base}/eligibility", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    assert check["eligible"] is True and check["available_fen"] == 100_000
    assert "marked 0" in _mark_overdue(app, due + dt.timedelta(days=2))


def test_medical_routes_check_roles_and_input(client, factory, login_as) -> None:
    hospital = make_hospital(factory)
    assert client.post(f"{hospital.base}/visits", json={"code": "x"}).status_code == 401
    assert client.post(f"{hospital.base}/visits", json={"code": "x"},
                       headers=hospital.billing.headers).status_code == 403
    assert client.post(f"{hospital.base}/visits", json={"code": "x"},
                       headers=login_as("resident")).status_code == 404
    assert client.post(f"{hospital.base}/visits", json={}, headers=hospital.clinician.headers).status_code == 422
    bad_code = client.post(f"{hospital.base}/visits", json={"code": "nonsense"}, headers=hospital.clinician.headers)
    assert bad_code.status_code == 404 and bad_code.json["code"] == "qr_not_found"
    assert client.get(f"{API}/me/medical/bills", headers=login_as("account")).status_code == 403
    assert client.get(f"{hospital.base}/bills/mbl_nope", headers=hospital.billing.headers).status_code == 404


def test_a_replayed_charge_with_the_same_idempotency_key_is_posted_once(client, factory, session) -> None:
    hospital = make_hospital(factory)
    visit = _visit(client, hospital, factory.user("resident"))
    first = _charge(client, hospital, visit["id"], 5_000, **{"Idempotency-Key": "charge-1"})
    again = _charge(client, hospital, visit["id"], 5_000, **{"Idempotency-Key": "charge-1"})
    assert first.status_code == again.status_code == 201 and again.json["id"] == first.json["id"]
    assert session.scalar(select(func.sum(MedicalCharge.amount_fen))) == 5_000
    session.commit()
