"""Templates: officers publish, anyone reads, editing creates a new version."""

from tests.commitments.conftest import TEMPLATE, draft, publish, signed


def test_officer_publishes_and_anyone_reads_templates(client, desk):
    listing = client.get(f"/api/v1/departments/{desk.dept_id}/commitment-templates")
    assert listing.status_code == 200
    [item] = listing.json["items"]
    assert item["id"] == desk.template["id"] and item["version"] == 1 and item["type"] == "public_disclosure"
    assert [f["name"] for f in item["fields"]] == ["name", "matter", "amount"]
    assert client.get(f"/api/v1/departments/{desk.dept_id}/commitment-templates?type=credit_repair"
                      ).json["items"] == []


def test_only_officers_of_that_department_publish(client, factory, desk):
    resident = factory.user("resident")
    url = f"/api/v1/departments/{desk.dept_id}/commitment-templates"
    assert client.post(url, json=TEMPLATE).status_code == 401
    assert client.post(url, json=TEMPLATE, headers=resident.headers).status_code == 404
    admin = factory.user("admin", desk.department)
    assert client.post(url, json=TEMPLATE, headers=admin.headers).status_code == 403
    other = factory.org("department")
    assert client.post(f"/api/v1/departments/{other.id}/commitment-templates", json=TEMPLATE,
                       headers=desk.officer.headers).status_code == 404


def test_all_four_type_codes_are_accepted_and_others_refused(client, desk):
    for kind in ("public_disclosure", "industry_self_discipline", "approval_substitute", "credit_repair"):
        assert publish(client, desk.department, desk.officer, type=kind)["type"] == kind
    bad = client.post(f"/api/v1/departments/{desk.dept_id}/commitment-templates",
                      json={**TEMPLATE, "type": "promise"}, headers=desk.officer.headers)
    assert bad.status_code == 422 and bad.json["code"] == "validation_failed"


def test_a_slot_without_a_field_or_a_bad_pattern_is_refused(client, desk):
    url = f"/api/v1/departments/{desk.dept_id}/commitment-templates"
    slot = client.post(url, json={**TEMPLATE, "text": "本人{nobody}承诺"}, headers=desk.officer.headers)
    assert slot.status_code == 422 and slot.json["code"] == "invalid_template"
    pattern = client.post(url, json={**TEMPLATE, "fields": [{"name": "name", "pattern": "(["}],
                                     "text": "{name}"}, headers=desk.officer.headers)
    assert pattern.status_code == 422 and pattern.json["code"] == "invalid_template"
    dup = client.post(url, json={**TEMPLATE, "fields": [{"name": "name"}, {"name": "name"}], "text": "{name}"},
                      headers=desk.officer.headers)
    assert dup.status_code == 422 and dup.json["code"] == "invalid_template"


def test_editing_creates_a_version_and_signed_commitments_keep_theirs(client, factory, desk):
    resident = factory.user("resident")
    before = signed(client, resident, desk.template["id"])
    url = f"/api/v1/departments/{desk.dept_id}/commitment-templates/{desk.template['id']}"
    edited = client.put(url, json={"text": "本人{name}郑重承诺：{matter}属实。"}, headers=desk.officer.headers)
    assert edited.status_code == 201
    assert edited.json["version"] == 2 and edited.json["family_id"] == desk.template["id"]
    listing = client.get(f"/api/v1/departments/{desk.dept_id}/commitment-templates").json["items"]
    assert [t["id"] for t in listing] == [edited.json["id"]]
    old = client.get(url).json
    assert old["is_current"] is False and old["version"] == 1
    again = client.get(f"/api/v1/commitments/{before['id']}", headers=resident.headers).json
    assert again["text"] == before["text"] and "金额100元" in again["text"]
    stale = client.post("/api/v1/commitments", json={"template_id": desk.template["id"], "fields": {}},
                        headers=resident.headers)
    assert stale.status_code == 409 and stale.json["code"] == "template_superseded"
    assert stale.json["current_id"] == edited.json["id"]
    assert client.put(url, json={"title": "x"}, headers=desk.officer.headers).status_code == 409
    new = draft(client, resident, edited.json["id"])
    assert new["text"] == "本人张三郑重承诺：个体工商户登记属实。"


def test_templates_of_an_unknown_or_non_department_org_are_404(client, factory):
    assert client.get("/api/v1/departments/org_nope/commitment-templates").status_code == 404
    enterprise = factory.org("enterprise")
    response = client.get(f"/api/v1/departments/{enterprise.id}/commitment-templates")
    assert response.status_code == 404 and response.json["code"] == "org_not_found"


def test_a_field_pattern_matches_in_linear_time_and_backreferences_are_refused(client, factory, desk):
    """Patterns run on RE2: ``(a+)+b`` against 28 a's and a "!" (about 2^28 steps for a backtracking
    engine, over 10 s holding the server's GIL; 500 a's would never end) answers at once; a pattern RE2 cannot run in linear time is refused when published."""
    import time

    from tests.commitments.conftest import publish

    url = f"/api/v1/departments/{desk.dept_id}/commitment-templates"
    backreference = client.post(url, json={**TEMPLATE, "fields": [{"name": "name", "pattern": "(a)\\1"}],
                                           "text": "{name}"}, headers=desk.officer.headers)
    assert backreference.status_code == 422 and backreference.json["code"] == "invalid_template"
    evil = publish(client, desk.department, desk.officer, text="编号{code}",
                   fields=[{"name": "code", "type": "string", "required": True, "pattern": "(a+)+b"}])
    resident = factory.user("resident")
    started = time.perf_counter()
    response = client.post("/api/v1/commitments", json={"template_id": evil["id"], "fields": {"code": "a" * 28 + "!"}},
                           headers=resident.headers)
    assert response.status_code == 422 and response.json["code"] == "invalid_field_value"
    assert time.perf_counter() - started < 2
    ok = client.post("/api/v1/commitments", json={"template_id": evil["id"], "fields": {"code": "aaab"}},
                     headers=resident.headers)
    assert ok.status_code == 201 and ok.json["text"] == "编号aaab"


def test_values_with_bidirectional_controls_are_refused(client, factory, desk):
    resident = factory.user("resident")
    for control in ("\u202e", "\u2066", "\u200f"):
        response = client.post("/api/v1/commitments", json={"template_id": desk.template["id"],
                                                            "fields": {"name": f"王{control}五", "matter": "登记"}},
                               headers=resident.headers)
        assert response.status_code == 422 and response.json["code"] == "invalid_field_value", control


def test_a_stored_pattern_re2_cannot_run_is_a_409_not_a_500(client, factory, session):
    """A template stored before patterns were RE2 may hold a lookahead: using it is 409
    template_pattern_unusable (the department republishes it), never a 500."""
    from sqlalchemy import update

    from backend.commitments.models import CommitmentTemplate
    from tests.commitments.conftest import publish

    department = factory.org("department")
    officer = factory.user("officer", department)
    template = publish(client, department, officer)
    fields = [dict(f) for f in template["fields"]]
    fields[1]["pattern"] = r"^(?!测试)[\u4e00-\u9fa5]{2,40}$"
    session.execute(update(CommitmentTemplate).where(CommitmentTemplate.id == template["id"]).values(fields=fields))
    session.commit()
    response = client.post("/api/v1/commitments", json={"template_id": template["id"],
                                                        "fields": {"name": "张三", "matter": "个体工商户登记"}},
                           headers=factory.user("resident").headers)
    assert response.status_code == 409 and response.json["code"] == "template_pattern_unusable"


def test_a_template_text_keeps_its_layout(client, factory):
    """Chinese formal text opens a paragraph with two U+3000: the sealed text keeps them."""
    from tests.commitments.conftest import publish

    department = factory.org("department")
    text = "\u3000\u3000本人{name}承诺：申报的{matter}材料真实有效，金额{amount}元。\n"
    assert publish(client, department, factory.user("officer", department), text=text)["text"] == text


def test_sealed_text_takes_no_invisible_slot_values_no_bidi_controls_and_whole_code_points(client, factory, desk):
    from tests.commitments.conftest import publish

    resident = factory.user("resident")
    for blank in ("\u200b", "\ufeff", "\u3164"):  # a required slot that reads blank
        response = client.post("/api/v1/commitments", json={"template_id": desk.template["id"],
                                                            "fields": {"name": "张三", "matter": blank}},
                               headers=resident.headers)
        assert response.status_code == 422 and response.json["code"] == "invalid_field_value", repr(blank)
    url = f"/api/v1/departments/{desk.dept_id}/commitment-templates"
    # a direction mark: bidi_control (sealed text carries none); an override: no text at all takes one
    for body, code in (({"text": "本人{name}承诺\u061c{matter}{amount}"}, "bidi_control"),
                       ({"title": "模\u200f板"}, "bidi_control"), ({"title": "模\u202e板"}, "validation_failed")):
        response = client.post(url, json={**TEMPLATE, **body}, headers=desk.officer.headers)
        assert response.status_code == 422 and response.json["code"] == code, body
    emoji = publish(client, desk.department, desk.officer, text="{mark}",
                    fields=[{"name": "mark", "type": "string", "required": True, "pattern": "\\ud83d\\ude00"}])
    ok = client.post("/api/v1/commitments", json={"template_id": emoji["id"], "fields": {"mark": "😀"}},
                     headers=resident.headers)
    assert ok.status_code == 201  # a surrogate pair, as JavaScript writes 😀, is that one character
    lone = client.post(url, json={**TEMPLATE, "fields": [{"name": "name", "pattern": "\\ud800"}], "text": "{name}"},
                       headers=desk.officer.headers)
    assert lone.status_code == 422 and lone.json["code"] == "invalid_template"


def test_date_fields_hold_dates_a_person_means(client, factory, desk):
    from tests.commitments.conftest import publish

    template = publish(client, desk.department, desk.officer, text="承诺在{due}前补齐材料。",
                       fields=[{"name": "due", "type": "date", "required": True}])
    resident = factory.user("resident")
    for far in ("0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"):
        refused = client.post("/api/v1/commitments", json={"template_id": template["id"], "fields": {"due": far}},
                              headers=resident.headers)
        assert refused.status_code == 422 and refused.json["code"] == "invalid_field_value", far
    ok = client.post("/api/v1/commitments", json={"template_id": template["id"], "fields": {"due": "2026-12-31"}},
                     headers=resident.headers)
    assert ok.status_code == 201 and "2026-12-31" in ok.json["text"]
