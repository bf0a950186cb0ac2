"""Paper commitments recorded by officers, and the paperless share per month."""

import datetime as dt

from sqlalchemy import update

from backend.commitments.models import Commitment
from tests.commitments.conftest import signed
from tests.factories import valid_id_number


def _paper(client, desk, **overrides):
    body = {"type": "approval_substitute", "title": "容缺受理承诺书（纸质）", "id_number": valid_id_number(),
            "signed_on": "2026-03-15", "paper_ref": "CN-2026-0001"}
    if "template_id" not in overrides:
        body["text"] = "本人承诺在规定期限内补齐所缺材料。"  # what the paper says
    body.update(overrides)
    return client.post(f"/api/v1/departments/{desk.dept_id}/commitments:offline", json=body,
                       headers=desk.officer.headers)


def test_officer_records_a_paper_commitment(client, desk):
    response = _paper(client, desk)
    assert response.status_code == 201
    assert response.json["channel"] == "offline" and response.json["status"] == "signed"
    assert response.json["paper_ref"] == "CN-2026-0001" and response.json["public_id"] is None
    assert response.json["signed_at"].startswith("2026-03-14T16:00")  # midnight in Asia/Shanghai
    duplicate = _paper(client, desk)
    assert duplicate.status_code == 409 and duplicate.json["code"] == "paper_commitment_exists"


def test_paper_commitments_need_one_valid_subject(client, factory, desk):
    assert _paper(client, desk, id_number=None).json["code"] == "paper_subject_required"
    both = _paper(client, desk, credit_code="91430100MA4L00006X")
    assert both.status_code == 422 and both.json["code"] == "paper_subject_required"
    assert _paper(client, desk, id_number="430104199001011234").json["code"] == "invalid_id_number"
    enterprise = factory.org("enterprise")
    ok = _paper(client, desk, id_number=None, credit_code=enterprise.credit_code, paper_ref="E-1")
    assert ok.status_code == 201 and ok.json["subject_org_id"] == enterprise.id
    from tests.factories import valid_credit_code

    unknown = _paper(client, desk, id_number=None, credit_code=valid_credit_code(), paper_ref="E-2")
    assert unknown.status_code == 422 and unknown.json["code"] == "unknown_enterprise"


def test_a_paper_commitment_needs_its_text_or_template(client, desk):
    bare = _paper(client, desk, text=None)
    assert bare.status_code == 422 and bare.json["code"] == "paper_text_required"
    assert _paper(client, desk, text=" \u200b").status_code == 422


def test_an_officer_records_no_paper_commitment_of_their_own(client, factory, desk, session):
    """Four eyes at the counter: a colleague records it."""
    department_id = desk.dept_id
    own = factory.user("officer", desk.department, verified=True)
    session.rollback()
    refused = client.post(f"/api/v1/departments/{department_id}/commitments:offline", json={
        "type": "approval_substitute", "title": "容缺受理承诺书（纸质）", "id_number": own.id_number,
        "text": "本人承诺。", "signed_on": "2026-03-15", "paper_ref": "SELF-1"}, headers=own.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
    assert _paper(client, desk, id_number=own.id_number, paper_ref="SELF-1").status_code == 201


def test_paper_route_is_for_officers_only(client, factory, desk):
    resident = factory.user("resident")
    response = client.post(f"/api/v1/departments/{desk.dept_id}/commitments:offline",
                           json={"type": "credit_repair"}, headers=resident.headers)
    assert response.status_code == 404


def test_stats_give_online_offline_and_paperless_share_per_month(client, factory, desk, session):
    resident = factory.user("resident")
    march = [signed(client, resident, desk.template["id"]) for _ in range(3)]
    for item in march:
        session.execute(update(Commitment).where(Commitment.id == item["id"])
                        .values(signed_at=dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)))
    session.commit()
    _paper(client, desk, signed_on="2026-03-01", paper_ref="P1")
    _paper(client, desk, signed_on="2026-04-01", paper_ref="P2")
    response = client.get(f"/api/v1/departments/{desk.dept_id}/commitments/stats?from=2026-02&to=2026-04",
                          headers=desk.officer.headers)
    assert response.status_code == 200
    body = response.json
    assert [i["month"] for i in body["items"]] == ["2026-02", "2026-03", "2026-04"]
    assert body["items"][0] == {"month": "2026-02", "online": 0, "offline": 0, "total": 0, "paperless_share": None}
    assert body["items"][1] == {"month": "2026-03", "online": 3, "offline": 1, "total": 4, "paperless_share": 0.75}
    assert body["items"][2]["paperless_share"] == 0.0
    assert body["online"] == 3 and body["offline"] == 2 and body["paperless_share"] == 0.6
    assert body["target_share"] == 0.7 and body["target_met"] is False
    bad = client.get(f"/api/v1/departments/{desk.dept_id}/commitments/stats?from=2026-05&to=2026-04",
                     headers=desk.officer.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_month"
    assert client.get(f"/api/v1/departments/{desk.dept_id}/commitments/stats?from=2026-13",
                      headers=desk.officer.headers).status_code == 422
    default = client.get(f"/api/v1/departments/{desk.dept_id}/commitments/stats", headers=desk.officer.headers)
    assert len(default.json["items"]) == 12


def test_a_paper_commitment_breach_writes_a_record_too(client, desk, session):
    from sqlalchemy import select

    from backend.credit.models import CreditRecord

    number = valid_id_number()
    paper = _paper(client, desk, id_number=number, signed_on=dt.date.today().isoformat()).json
    response = client.post(f"/api/v1/departments/{desk.dept_id}/commitments/{paper['id']}/breach",
                           json={"reason": "未按期补齐"}, headers=desk.officer.headers)
    assert response.status_code == 200
    assert session.scalars(select(CreditRecord)).one().category == "commitment_breach"
    session.rollback()


def test_months_and_paper_dates_outside_the_platforms_calendar_are_422(client, factory, desk):
    url = f"/api/v1/departments/{desk.dept_id}/commitments"
    for query in ("from=0001-01&to=9999-12", "from=0001-01&to=2026-12", "from=2026-01&to=2101-01",
                  "from=2000-01&to=2026-12"):  # the last: more than ten years of months
        response = client.get(f"{url}/stats?{query}", headers=desk.officer.headers)
        assert response.status_code == 422 and response.json["code"] == "invalid_month", query
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date().isoformat()
    for signed_on in ("0001-01-01", "1999-12-31", "9999-12-30", tomorrow):
        response = client.post(f"{url}:offline", headers=desk.officer.headers, json={
            "type": "public_disclosure", "title": "纸质承诺", "signed_on": signed_on, "paper_ref": f"P-{signed_on}",
            "id_number": valid_id_number(), "validity_days": 3650})
        assert response.status_code == 422 and response.json["code"] == "invalid_signed_on", signed_on


def test_officers_see_whom_a_commitment_binds_masked(client, factory, desk):
    number = valid_id_number()
    paper = _paper(client, desk, id_number=number, paper_ref="CN-SUBJ-1").json
    assert paper["subject"]["kind"] == "person" and number not in str(paper)
    assert paper["subject"]["id_number"][:2] == number[:2] and "*" in paper["subject"]["id_number"]
    resident = factory.user("resident", name="欧阳娜娜")
    online = signed(client, resident, desk.template["id"])
    listed = {i["id"]: i for i in client.get(f"/api/v1/departments/{desk.dept_id}/commitments",
                                             headers=desk.officer.headers).json["items"]}
    assert listed[online["id"]]["subject"]["name"] == "欧***"
    assert resident.id_number not in str(listed) and listed[paper["id"]]["subject"] == paper["subject"]


def test_the_default_range_of_stats_stays_inside_the_calendar(client, desk):
    response = client.get(f"/api/v1/departments/{desk.dept_id}/commitments/stats?to=2000-06",
                          headers=desk.officer.headers)
    assert response.status_code == 200
    assert [i["month"] for i in response.json["items"]][:1] == ["2000-01"]


def test_a_paper_commitment_from_a_template_fills_its_slots(client, desk, session):
    template = desk.template
    slots = [field["name"] for field in template["fields"]]
    assert slots and all("{" + name + "}" in template["text"] for name in slots)
    bare = _paper(client, desk, type=template["type"], template_id=template["id"], paper_ref="T-0")
    assert bare.status_code == 422 and bare.json["code"] == "missing_field"  # no {slot} is ever stored
    values = {"name": "张三", "matter": "个体工商户登记", "amount": 100}  # the desk template's slots
    filled = _paper(client, desk, type=template["type"], template_id=template["id"], fields=values,
                    paper_ref="T-1")
    assert filled.status_code == 201, filled.json
    own_text = _paper(client, desk, type=template["type"], template_id=template["id"], text="纸面原文",
                      paper_ref="T-2")
    assert own_text.status_code == 201, own_text.json
    loose = _paper(client, desk, fields=values, paper_ref="T-3")  # fields without a template
    assert loose.status_code == 422 and loose.json["code"] == "fields_need_template"
    stored = session.get(Commitment, filled.json["id"])
    assert "{" not in stored.text and "张三" in stored.text and stored.fields == values
    assert session.get(Commitment, own_text.json["id"]).text == "纸面原文"
    session.rollback()
