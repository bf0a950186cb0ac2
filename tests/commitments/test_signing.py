"""Drafting, previewing and signing: re-authentication, one seal per commitment, immutability."""

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from backend.commitments.models import Commitment, Seal
from tests.commitments.conftest import draft, sign, signed


def test_draft_returns_the_exact_rendered_text(client, factory, desk):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    assert commitment["status"] == "draft" and commitment["channel"] == "online"
    assert commitment["text"] == "本人张三承诺：申报的个体工商户登记材料真实有效，金额100元。"
    assert commitment["public_id"] is None and commitment["hash"] is None
    assert client.get(f"/api/v1/commitments/{commitment['id']}", headers=resident.headers).json["text"] == \
        commitment["text"]


def test_field_rules_are_enforced(client, factory, desk):
    resident = factory.user("resident")

    def post(fields):
        return client.post("/api/v1/commitments", json={"template_id": desk.template["id"], "fields": fields},
                           headers=resident.headers)

    missing = post({"name": "张三"})
    assert missing.status_code == 422 and missing.json["code"] == "missing_field" and missing.json["field"] == "matter"
    pattern = post({"name": "张三", "matter": "<script>"})
    assert pattern.status_code == 422 and pattern.json["code"] == "invalid_field_value"
    wrong_type = post({"name": "张三", "matter": "登记", "amount": "100"})
    assert wrong_type.status_code == 422 and wrong_type.json["field"] == "amount"
    unknown = post({"name": "张三", "matter": "登记", "extra": 1})
    assert unknown.status_code == 422 and unknown.json["code"] == "unknown_field"
    optional = post({"name": "张三", "matter": "登记"})
    assert optional.status_code == 201 and optional.json["text"].endswith("金额元。")
    assert client.post("/api/v1/commitments", json={"template_id": "ctp_nope", "fields": {}},
                       headers=resident.headers).status_code == 404


def test_unverified_accounts_cannot_commit_for_themselves(client, factory, desk):
    account = factory.user("account")
    response = client.post("/api/v1/commitments", json={"template_id": desk.template["id"], "fields": {}},
                           headers=account.headers)
    assert response.status_code == 403 and response.json["code"] == "verification_required"


def test_signing_seals_and_makes_the_commitment_immutable(client, factory, desk):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    response = sign(client, resident, commitment["id"], **{"User-Agent": "TestPhone/1.0"})
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "signed" and len(body["public_id"]) == 16
    assert len(body["hash"]) == 64 and body["signature"] and body["key_id"]
    assert body["verify_url"].endswith(f"/v/{body['public_id']}")
    assert body["signed_at"] and body["valid_until"]
    patched = client.patch(f"/api/v1/commitments/{commitment['id']}", json={"fields": {"name": "李四"}},
                           headers=resident.headers)
    assert patched.status_code == 409 and patched.json["code"] == "commitment_not_draft"
    again = sign(client, resident, commitment["id"])
    assert again.status_code == 409 and again.json["code"] == "commitment_not_draft"


def test_drafts_can_change_before_signing(client, factory, desk):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    patched = client.patch(f"/api/v1/commitments/{commitment['id']}",
                           json={"fields": {"name": "张三", "matter": "食品经营许可"}}, headers=resident.headers)
    assert patched.status_code == 200 and "食品经营许可" in patched.json["text"]


def test_wrong_password_is_401_and_seals_nothing(client, factory, desk, session):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    response = sign(client, resident, commitment["id"], password="wrong-password")
    assert response.status_code == 401 and response.json["code"] == "invalid_credentials"
    assert session.scalar(select(func.count()).select_from(Seal)) == 0
    assert session.get(Commitment, commitment["id"]).status == "draft"
    session.rollback()


def test_repeated_wrong_passwords_are_rate_limited(client, factory, desk):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    statuses = [sign(client, resident, commitment["id"], password="nope").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429


def test_wrong_signing_passwords_sent_in_parallel_are_limited_too(app, client, factory, desk):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    barrier = Barrier(25)

    def attempt(_i):
        own = app.test_client()
        barrier.wait()
        return sign(own, resident, commitment["id"], password="nope").status_code

    with ThreadPoolExecutor(25) as pool:
        statuses = list(pool.map(attempt, range(25)))
    assert 1 <= statuses.count(401) <= 5 and statuses.count(401) + statuses.count(429) == 25, statuses


def test_only_the_drafter_signs(client, factory, desk):
    resident, other = factory.user("resident"), factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    assert sign(client, other, commitment["id"]).status_code == 404
    assert client.get(f"/api/v1/commitments/{commitment['id']}", headers=other.headers).status_code == 404


def test_a_double_click_makes_one_seal(app, factory, desk, session):
    resident = factory.user("resident")
    commitment = draft(app.test_client(), resident, desk.template["id"])

    def click(_):
        return sign(app.test_client(), resident, commitment["id"]).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(click, range(6)))
    # the others found the draft sealed (409) or the first click's password check still in flight (429)
    assert statuses.count(200) == 1 and statuses.count(409) + statuses.count(429) == 5, statuses
    assert session.scalar(select(func.count()).select_from(Seal)) == 1
    session.rollback()


def test_the_same_idempotency_key_replays_the_one_seal(client, factory, desk, session):
    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    first = sign(client, resident, commitment["id"], **{"Idempotency-Key": "sign-once-1"})
    second = sign(client, resident, commitment["id"], **{"Idempotency-Key": "sign-once-1"})
    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json["public_id"] == second.json["public_id"]
    assert session.scalar(select(func.count()).select_from(Seal)) == 1
    session.rollback()


def test_enterprise_admin_or_signer_commits_on_behalf_of_the_enterprise(client, factory, desk):
    enterprise = factory.org("enterprise")
    signer = factory.user("signer", enterprise)
    outsider = factory.user("resident")
    commitment = draft(client, signer, desk.template["id"], on_behalf_of=enterprise.id)
    assert commitment["subject_kind"] == "enterprise" and commitment["subject_org_id"] == enterprise.id
    response = client.post("/api/v1/commitments", json={"template_id": desk.template["id"], "fields": {},
                                                        "on_behalf_of": enterprise.id}, headers=outsider.headers)
    assert response.status_code == 404
    sealed = sign(client, signer, commitment["id"])
    assert sealed.status_code == 200
    view = client.get(f"/api/v1/public/commitments/{sealed.json['public_id']}").json
    assert view["subject"] == {"kind": "enterprise", "name": enterprise.name, "credit_code": enterprise.credit_code}


def test_my_commitments_lists_drafts_and_signed(client, factory, desk):
    resident = factory.user("resident")
    first = draft(client, resident, desk.template["id"])
    second = draft(client, resident, desk.template["id"])
    sign(client, resident, second["id"])
    listing = client.get("/api/v1/me/commitments", headers=resident.headers).json
    assert [i["id"] for i in listing["items"]] == [second["id"], first["id"]]
    only = client.get("/api/v1/me/commitments?status=signed", headers=resident.headers).json["items"]
    assert [i["id"] for i in only] == [second["id"]]
    assert client.get("/api/v1/me/commitments", headers=factory.user("resident").headers).json["items"] == []


def test_concurrent_first_signatures_share_one_platform_key(app, factory, desk, session):
    from backend.commitments.models import SealKey

    residents = [factory.user("resident") for _ in range(4)]
    drafts = [(r, draft(app.test_client(), r, desk.template["id"])) for r in residents]

    def go(pair):
        user, commitment = pair
        return sign(app.test_client(), user, commitment["id"]).json

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(go, drafts))
    assert len({r["key_id"] for r in results}) == 1
    assert session.scalar(select(func.count()).select_from(SealKey)) == 1
    session.rollback()
    client = app.test_client()
    assert all(client.get(f"/api/v1/public/commitments/{r['public_id']}").json["valid"] for r in results)


def test_the_seal_binds_the_signers_ip_and_user_agent_without_publishing_them(client, factory, desk, session,
                                                                               settings):
    import json

    from backend.commitments.service.commitments import signing_evidence

    resident = factory.user("resident")
    commitment = draft(client, resident, desk.template["id"])
    sealed = sign(client, resident, commitment["id"], **{"User-Agent": "TestPhone/2.0"}).json
    row = session.get(Commitment, commitment["id"])
    assert row.signer_user_agent == "TestPhone/2.0" and row.signer_ip == "127.0.0.1"
    session.rollback()
    view = client.get(f"/api/v1/public/commitments/{sealed['public_id']}").json
    document = json.loads(view["content"])
    assert document["signer"]["evidence"] == signing_evidence(settings, "127.0.0.1", "TestPhone/2.0",
                                                              sealed["public_id"])
    assert "TestPhone" not in view["content"] and "127.0.0.1" not in view["content"]
    # another document signed from the same phone and network (by anyone) shares no value with it
    other = factory.user("resident")
    second = sign(client, other, draft(client, other, desk.template["id"])["id"], **{"User-Agent": "TestPhone/2.0"}).json
    again = json.loads(client.get(f"/api/v1/public/commitments/{second['public_id']}").json["content"])
    assert again["signer"]["evidence"] != document["signer"]["evidence"]
    assert again["signer"]["ref"] != document["signer"]["ref"]


def test_an_enterprise_admin_reads_its_signers_commitments_and_a_removed_signer_loses_them(client, factory, desk):
    enterprise = factory.org("enterprise")
    admin = factory.user("admin", enterprise)
    signer = factory.user("signer", enterprise)
    draft_only = draft(client, signer, desk.template["id"], on_behalf_of=enterprise.id)
    sealed = signed(client, signer, desk.template["id"], on_behalf_of=enterprise.id)
    for commitment in (draft_only, sealed):
        assert client.get(f"/api/v1/commitments/{commitment['id']}", headers=admin.headers).status_code == 200
    listed = client.get("/api/v1/me/commitments", headers=admin.headers).json["items"]
    assert {i["id"] for i in listed} == {draft_only["id"], sealed["id"]}
    edit = {"fields": {"name": "李四", "matter": "个体工商户登记"}}
    assert client.patch(f"/api/v1/commitments/{draft_only['id']}", json=edit,
                        headers=admin.headers).status_code == 404  # the drafter's to edit and sign
    removed = client.delete(f"/api/v1/orgs/{enterprise.id}/members/{signer.account.id}", headers=admin.headers)
    assert removed.status_code == 204
    assert client.get(f"/api/v1/commitments/{draft_only['id']}", headers=signer.headers).status_code == 404
    assert client.patch(f"/api/v1/commitments/{draft_only['id']}", json=edit,
                        headers=signer.headers).status_code == 404
    assert client.get("/api/v1/me/commitments", headers=signer.headers).json["items"] == []
    assert client.get(f"/api/v1/commitments/{sealed['id']}", headers=admin.headers).status_code == 200


def test_a_sealed_document_names_its_signer_by_a_reference_no_one_can_link(client, factory, desk, settings):
    from backend.commitments.service.commitments import signer_ref

    resident = factory.user("resident")
    views = [client.get(f"/api/v1/public/commitments/{signed(client, resident, desk.template['id'])['public_id']}").json
             for _ in range(2)]
    refs = []
    for view in views:
        assert resident.account.id not in str(view) and view["valid"] is True
        refs.append(json.loads(view["content"])["signer"]["ref"])
        assert refs[-1] == signer_ref(settings, resident.account.id, view["public_id"])
    assert refs[0] != refs[1]
