from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from backend import create_app
from backend.identity.models import Person
from tests.factories import invalid_id_number, valid_credit_code, valid_id_number


def test_real_name_verification_binds_and_masks(client, factory, session):
    user = factory.user("account")
    number = valid_id_number()
    response = client.post("/api/v1/me/real-name", json={"name": "李小龙", "id_number": number}, headers=user.headers)
    assert response.status_code == 201 and response.json["status"] == "approved"
    me = client.get("/api/v1/me", headers=user.headers).json
    assert me["verified"] is True and me["name_masked"] == "李**"
    assert me["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    assert number not in str(me)
    person = session.scalars(select(Person)).one()
    assert number.encode() not in person.id_cipher  # encrypted at rest
    assert number not in person.id_blind


def test_bad_id_number_is_422(client, factory):
    user = factory.user("account")
    response = client.post("/api/v1/me/real-name", json={"name": "王", "id_number": invalid_id_number()},
                           headers=user.headers)
    assert response.status_code == 422 and response.json["code"] == "invalid_id_number"


def test_one_person_binds_to_one_account(client, factory):
    number = valid_id_number()
    first, second = factory.user("account"), factory.user("account")
    assert client.post("/api/v1/me/real-name", json={"name": "甲", "id_number": number},
                       headers=first.headers).status_code == 201
    response = client.post("/api/v1/me/real-name", json={"name": "甲", "id_number": number},
                           headers=second.headers)
    assert response.status_code == 409 and response.json["code"] == "identity_already_bound"
    again = client.post("/api/v1/me/real-name", json={"name": "甲", "id_number": valid_id_number()},
                        headers=first.headers)
    assert again.json["code"] == "already_verified"


def test_concurrent_claims_of_one_person_bind_exactly_one_account(app, factory):
    number = valid_id_number()
    users = [factory.user("account") for _ in range(8)]

    def claim(user):
        return app.test_client().post("/api/v1/me/real-name", json={"name": "甲", "id_number": number},
                                      headers=user.headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(claim, users))
    assert statuses.count(201) == 1 and statuses.count(409) == 7


def test_counter_verification_waits_for_a_department_officer(base_settings, session, factory):
    app = create_app(base_settings.with_overrides(real_name_verifier="counter"))
    client = app.test_client()
    user = factory.user("account")
    claim = client.post("/api/v1/me/real-name", json={"name": "周", "id_number": valid_id_number()},
                        headers=user.headers)
    assert claim.status_code == 201 and claim.json["status"] == "pending"
    assert client.get("/api/v1/me", headers=user.headers).json["real_name_status"] == "pending"
    assert client.post("/api/v1/me/qr-codes", headers=user.headers).status_code == 403

    department = factory.org("department")
    officer = factory.user("officer", department)
    village_admin = factory.user("admin", factory.org("village"))
    queue = client.get(f"/api/v1/departments/{department.id}/real-name-claims?status=pending",
                       headers=officer.headers)
    assert queue.status_code == 200
    [item] = [i for i in queue.json["items"] if i["id"] == claim.json["id"]]
    assert "*" in item["id_number_masked"]
    assert client.get(f"/api/v1/departments/{department.id}/real-name-claims",
                      headers=village_admin.headers).status_code == 404
    decided = client.post(f"/api/v1/departments/{department.id}/real-name-claims/{claim.json['id']}/decision",
                          json={"outcome": "approved"}, headers=officer.headers)
    assert decided.status_code == 200 and decided.json["status"] == "approved"
    assert client.get("/api/v1/me", headers=user.headers).json["verified"] is True
    twice = client.post(f"/api/v1/departments/{department.id}/real-name-claims/{claim.json['id']}/decision",
                        json={"outcome": "approved"}, headers=officer.headers)
    assert twice.status_code == 409 and twice.json["code"] == "claim_decided"
    assert item["name"] == "周"  # while it waited: the name to check against the card
    listed = client.get(f"/api/v1/departments/{department.id}/real-name-claims", headers=officer.headers).json
    [after] = [i for i in listed["items"] if i["id"] == claim.json["id"]]
    assert after["name"] == "周*"  # decided: masked like everywhere else


def test_claims_verified_by_checksum_never_reach_a_counter(client, factory):
    user = factory.user("account")
    claim = client.post("/api/v1/me/real-name", json={"name": "钱多多", "id_number": valid_id_number()},
                        headers=user.headers)
    assert claim.status_code == 201 and claim.json["status"] == "approved"
    department = factory.org("department")
    officer = factory.user("officer", department)
    listed = client.get(f"/api/v1/departments/{department.id}/real-name-claims", headers=officer.headers).json
    assert claim.json["id"] not in [i["id"] for i in listed["items"]] and "钱多多" not in str(listed)


def test_only_platform_admins_create_organisations(client, factory):
    admin, resident = factory.user("admin"), factory.user("resident")
    body = {"kind": "merchant", "name": "好运超市", "credit_code": valid_credit_code(), "region_code": "430104"}
    assert client.post("/api/v1/orgs", json=body, headers=resident.headers).status_code == 403
    created = client.post("/api/v1/orgs", json=body, headers=admin.headers)
    assert created.status_code == 201 and created.json["id"].startswith("org_")
    taken = client.post("/api/v1/orgs", json=body, headers=admin.headers)
    assert taken.status_code == 409 and taken.json["code"] == "credit_code_taken"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "merchant", "name": "店", "region_code": "430104"}, "credit_code_required"),
        ({"kind": "hospital", "name": "院", "region_code": "430104", "credit_code": "91430100MA4L000061"},
         "invalid_credit_code"),
        ({"kind": "bank", "name": "行", "region_code": "430104"}, "validation_failed"),
        ({"kind": "village", "name": "村", "region_code": "43"}, "invalid_region_code"),
        ({"kind": "village", "name": "", "region_code": "430104"}, "validation_failed"),
    ],
)
def test_bad_organisations_are_refused(client, factory, body, code):
    response = client.post("/api/v1/orgs", json=body, headers=factory.user("admin").headers)
    assert response.status_code == 422 and response.json["code"] == code


def test_org_admins_manage_members_and_outsiders_see_404(client, factory):
    village, other = factory.org("village"), factory.org("village")
    admin = factory.user("admin", village)
    clerk = factory.user("clerk", village)
    outsider = factory.user("admin", other)
    newcomer = factory.user("account")

    added = client.post(f"/api/v1/orgs/{village.id}/members", json={"phone": newcomer.phone, "roles": ["cashier"]},
                        headers=admin.headers)
    assert added.status_code == 201 and added.json["roles"] == ["cashier"]
    assert client.get(f"/api/v1/orgs/{village.id}", headers=newcomer.headers).status_code == 200
    # wrong role in the org: 403; member of another org only: 404
    assert client.post(f"/api/v1/orgs/{village.id}/members", json={"phone": newcomer.phone, "roles": ["clerk"]},
                       headers=clerk.headers).status_code == 403
    assert client.get(f"/api/v1/orgs/{village.id}", headers=outsider.headers).status_code == 404
    assert client.get(f"/api/v1/orgs/{village.id}/members", headers=outsider.headers).status_code == 404
    bad_role = client.post(f"/api/v1/orgs/{village.id}/members", json={"phone": newcomer.phone, "roles": ["billing"]},
                           headers=admin.headers)
    assert bad_role.status_code == 422 and bad_role.json["code"] == "invalid_role"
    members = client.get(f"/api/v1/orgs/{village.id}/members", headers=admin.headers).json["items"]
    assert {m["account_id"] for m in members} == {admin.id, clerk.id, newcomer.id}
    assert client.delete(f"/api/v1/orgs/{village.id}/members/{newcomer.id}", headers=admin.headers).status_code == 204
    assert client.get(f"/api/v1/orgs/{village.id}", headers=newcomer.headers).status_code == 404
    last = client.delete(f"/api/v1/orgs/{village.id}/members/{admin.id}", headers=admin.headers)
    assert last.status_code == 409 and last.json["code"] == "last_admin"


def test_me_lists_memberships(client, factory):
    village = factory.org("village")
    user = factory.user("clerk", village)
    factory.grant(user.account, village, "approver")
    me = client.get("/api/v1/me", headers=user.headers).json
    assert me["memberships"] == [{"org_id": village.id, "org_kind": "village", "org_name": village.name,
                                  "roles": ["approver", "clerk"]}]


def test_enterprise_claim_approved_by_admin_makes_the_claimant_its_admin(client, factory):
    claimant, admin = factory.user("account"), factory.user("admin")
    code = valid_credit_code()
    claim = client.post("/api/v1/enterprises/claims", json={"credit_code": code, "name": "诚信建材有限公司",
                                                             "region_code": "430104"}, headers=claimant.headers)
    assert claim.status_code == 201 and claim.json["status"] == "pending"
    assert client.post(f"/api/v1/enterprises/claims/{claim.json['id']}/decision", json={"outcome": "approved"},
                       headers=claimant.headers).status_code == 403
    assert len(client.get("/api/v1/enterprises/claims", headers=claimant.headers).json["items"]) == 1
    decided = client.post(f"/api/v1/enterprises/claims/{claim.json['id']}/decision", json={"outcome": "approved"},
                          headers=admin.headers)
    assert decided.status_code == 200 and decided.json["org_id"]
    me = client.get("/api/v1/me", headers=claimant.headers).json
    assert me["memberships"][0]["org_kind"] == "enterprise" and me["memberships"][0]["roles"] == ["admin"]
    bad = client.post("/api/v1/enterprises/claims", json={"credit_code": "123", "name": "x", "region_code": "430104"},
                      headers=claimant.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_credit_code"


def test_organisation_list_paginates_with_cursors(client, factory):
    admin = factory.user("admin")
    made = {factory.org("village").id for _ in range(5)}
    seen, cursor = [], None
    while True:
        url = "/api/v1/orgs?kind=village&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=admin.headers).json
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(seen) == made and len(seen) == 5
    assert seen == sorted(seen, reverse=True)  # newest first
    bad = client.get("/api/v1/orgs?cursor=%%%", headers=admin.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_cursor"
    assert client.get("/api/v1/orgs?limit=1000", headers=admin.headers).status_code == 422


def test_a_counter_officer_decides_no_claim_of_their_own_and_a_claim_that_lost_its_identity_is_closed(
        base_settings, session, factory):
    app = create_app(base_settings.with_overrides(real_name_verifier="counter"))
    client = app.test_client()
    department = factory.org("department")
    officer, colleague = factory.user("officer", department), factory.user("officer", department)
    decide = f"/api/v1/departments/{department.id}/real-name-claims/{{}}/decision"

    own = client.post("/api/v1/me/real-name", json={"name": "官员", "id_number": valid_id_number()},
                      headers=officer.headers).json
    refused = client.post(decide.format(own["id"]), json={"outcome": "approved"}, headers=officer.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
    assert client.get("/api/v1/me", headers=officer.headers).json["verified"] is False
    assert client.post(decide.format(own["id"]), json={"outcome": "approved"},
                       headers=colleague.headers).status_code == 200

    number = valid_id_number()
    first, second = factory.user("account"), factory.user("account")
    claims = [client.post("/api/v1/me/real-name", json={"name": "甲", "id_number": number}, headers=u.headers).json
              for u in (first, second)]
    assert client.post(decide.format(claims[0]["id"]), json={"outcome": "approved"},
                       headers=officer.headers).status_code == 200
    lost = client.post(decide.format(claims[1]["id"]), json={"outcome": "approved"}, headers=officer.headers)
    assert lost.status_code == 409 and lost.json["code"] == "identity_already_bound"
    assert client.get("/api/v1/me", headers=second.headers).json["real_name_status"] == "rejected"
    retry = client.post("/api/v1/me/real-name", json={"name": "乙", "id_number": valid_id_number()},
                        headers=second.headers)
    assert retry.status_code == 201 and retry.json["status"] == "pending"  # not stuck behind claim_pending


def test_an_officer_claiming_an_identity_decides_no_rival_claim_to_it(base_settings, session, factory):
    app = create_app(base_settings.with_overrides(real_name_verifier="counter"))
    client = app.test_client()
    department = factory.org("department")
    officer = factory.user("officer", department)
    number = valid_id_number()
    client.post("/api/v1/me/real-name", json={"name": "钱官", "id_number": number}, headers=officer.headers)
    rival = factory.user("account")
    theirs = client.post("/api/v1/me/real-name", json={"name": "钱某", "id_number": number}, headers=rival.headers).json
    refused = client.post(f"/api/v1/departments/{department.id}/real-name-claims/{theirs['id']}/decision",
                          json={"outcome": "rejected", "note": "冒用"}, headers=officer.headers)
    assert refused.status_code == 409 and refused.json["code"] == "conflict_of_interest"
