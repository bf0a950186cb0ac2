"""The authorisation matrix: every endpoint of the URL map, called as every kind of caller,
checked against the one table in tests/platform/authz_table.py (rendered to docs/authz.md).

The world (two orgs of each kind, a member of each role in each, residents A and B and real
objects of A and of the right orgs) is built once per module; each (endpoint, caller) cell is
one request. The database is not emptied between the module's tests (``_clean`` below) but
once at the end.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend.actor import Actor
from backend.config import PROJECT_ROOT
from backend.identity import service as identity_service
from backend.identity.models import Organisation
from backend.qr import service as qr_service
from tests.conftest import _clean_tables
from tests.factories import PASSWORD, Factory, User, valid_credit_code, valid_id_number
from tests.platform import authz_table as authz
from tests.platform.render_authz import render

API = "/api/v1"
TEMPLATE = {
    "type": "public_disclosure",
    "title": "主动公示型信用承诺书",
    "text": "本人{name}承诺：申报的{matter}材料真实有效。",
    "fields": [{"name": "name", "type": "string", "required": True},
               {"name": "matter", "type": "string", "required": True}],
    "validity_days": 365,
}
FIELDS = {"name": "张三", "matter": "个体工商户登记"}

# A 403/404 with one of these codes is a business answer (an ineligible resident, an unknown
# one-time code): the call got past authorisation. Any other 401/403/404 is a refusal.
PAST_AUTHORISATION = {"not_eligible", "qr_not_found", "qr_expired"}
_refs = itertools.count(1)


@dataclass
class Call:
    # a name of authz.CALLERS; "<kind>.<role>@own": the other org's member with its own org in the path;
    # "<kind>.admin@kind": the admin of an org of another kind with its own org in the path
    caller: str
    user: User | None


@dataclass
class World:
    app: Flask
    client: FlaskClient
    factory: Factory
    users: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, str] = field(default_factory=dict)  # "village" (right), "village@other"
    ids: dict[str, str] = field(default_factory=dict)
    TEMPLATE: dict[str, Any] = field(default_factory=lambda: TEMPLATE)
    FIELDS: dict[str, Any] = field(default_factory=lambda: FIELDS)
    PASSWORD: str = PASSWORD

    # -------------------------------------------------------------- helpers used by the table
    def fresh_code(self) -> str:
        settings = self.app.extensions["settings"]
        person = self.users["resident_a"].person_id or ""
        return qr_service.issue(redis=self.app.extensions["redis"], person_id=person, ttl_s=settings.qr_ttl_s).code

    def record_item(self, **extra: Any) -> dict[str, Any]:
        return {"id_number": valid_id_number(), "category": "administrative_penalty", "severity": "minor",
                "source_ref": self.unique("authz"), "decision": "罚款 50 元",
                "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat(), **extra}

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(_refs)}"

    def fresh_member(self, org_id: str) -> str:
        account = self.factory.account()
        identity_service.add_member(session=self.factory.session, org_id=org_id, phone=account.phone, roles=["admin"])
        account_id = account.id
        self.factory.session.commit()
        return account_id

    # -------------------------------------------------------------- HTTP as staff while building
    def post(self, who: str, path: str, body: dict[str, Any] | None = None, status: int = 201) -> Any:
        response = self.client.post(API + path, json=body, headers=self.users[who].headers)
        assert response.status_code == status, (path, response.status_code, response.json)
        return response.json


def _build(app: Flask) -> World:
    settings = app.extensions["settings"]
    session = app.extensions["session_factory"]()
    factory = Factory(session=session, settings=settings)
    world = World(app=app, client=app.test_client(), factory=factory)
    users, orgs, ids = world.users, world.orgs, world.ids

    for kind, roles in authz.KINDS.items():
        for side in ("", "@other"):
            org = factory.org(kind)
            orgs[kind + side] = org.id
            for role in roles:
                users[f"{kind}.{role}{side}"] = factory.user(role, org)
    users["resident_a"] = factory.user("resident", name="张三")
    users["resident_b"] = factory.user("resident", name="李四")
    users["unverified"] = factory.user("account")
    users["admin"] = factory.user("admin")
    users["spare_resident"] = factory.user("resident", name="王五")
    users["spare_account"] = factory.user("account")
    session.commit()
    v, m, h, d = (f"/{p}/{orgs[k]}" for p, k in (("villages", "village"), ("merchants", "merchant"),
                                                 ("hospitals", "hospital"), ("departments", "department")))

    # village A: a rule, resident A on the roll, awards in each state, a store item
    world.post("village.admin", f"{v}/rules", {"code": "volunteer", "name": "志愿服务", "points": 10,
                                               "category": "志愿服务"})
    ids["rule_code"] = "volunteer"
    ids["resident_a_on_roll"] = world.post("village.admin", f"{v}/residents",
                                           {"phone": users["resident_a"].phone})["id"]
    for name in ("award_to_read", "award_to_approve", "award_to_reject", "award_to_reverse"):
        ids[name] = world.post("village.clerk", f"{v}/awards", {"items": [
            {"resident_id": ids["resident_a_on_roll"], "rule_code": "volunteer"}]})["items"][0]["id"]
    world.post("village.approver", f"{v}/awards/{ids['award_to_reverse']}/approve", status=200)
    ids["store_item"] = world.post("village.admin", f"{v}/store-items",
                                   {"name": "肥皂", "price": 1, "stock": 1000})["id"]
    funding = world.post("village.clerk", f"{v}/awards", {"items": [
        {"resident_id": ids["resident_a_on_roll"], "rule_code": "volunteer"}]})["items"][0]["id"]
    world.post("village.approver", f"{v}/awards/{funding}/approve", status=200)
    ids["store_sale"] = world.post("village.cashier", f"{v}/store-redemptions",
                                   {"code": world.fresh_code(), "item_id": ids["store_item"], "quantity": 1})["id"]

    # merchant A: an offer and a redemption by resident A (level A: 620)
    ids["offer"] = world.post("merchant.admin", f"{m}/offers", {
        "scenario": "public_bikes", "title": "免押骑行", "benefit": "免 199 元押金", "min_level": "A"})["id"]
    ids["scenario"] = "public_bikes"
    ids["redemption"] = world.post("merchant.cashier", f"{m}/redemptions",
                                   {"code": world.fresh_code(), "offer_id": ids["offer"]})["id"]

    # hospital A: an open visit, one with a charge to settle, a bill
    ids["visit"] = world.post("hospital.clinician", f"{h}/visits", {"code": world.fresh_code()})["id"]
    ids["visit_to_settle"] = world.post("hospital.clinician", f"{h}/visits", {"code": world.fresh_code()})["id"]
    world.post("hospital.billing", f"{h}/visits/{ids['visit_to_settle']}/charges",
               {"amount_fen": 100, "item": "挂号费"})
    billed = world.post("hospital.clinician", f"{h}/visits", {"code": world.fresh_code()})["id"]
    world.post("hospital.billing", f"{h}/visits/{billed}/charges", {"amount_fen": 100, "item": "挂号费"})
    ids["bill"] = world.post("hospital.billing", f"{h}/visits/{billed}/settle")["id"]

    # department A: records of resident A (positive ones keep A at level A), an objection, a repair
    id_a = users["resident_a"].id_number
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=120)).isoformat()
    records = [world.record_item(id_number=id_a, category=category, severity=None)
               for category in ["volunteer_service"] * 10 + ["administrative_license"] * 24]
    negatives = {name: world.record_item(id_number=id_a, severity="general", occurred_at=long_ago)
                 for name in ("objected", "repaired", "record_to_object", "record_to_repair")}
    result = world.post("department.officer", f"{d}/records:batch",
                        {"records": records + list(negatives.values())}, status=200)
    by_ref = {i["source_ref"]: i["id"] for i in result["items"]}
    for name, item in negatives.items():
        ids[name] = by_ref[item["source_ref"]]
    ids["objection"] = world.post("resident_a", "/me/credit/objections",
                                  {"record_id": ids["objected"], "reason": "不是本人"})["id"]
    ids["repair"] = world.post("resident_a", "/me/credit/repairs",
                               {"record_id": ids["repaired"], "statement": "罚款已缴清"})["id"]
    # ...and of enterprise A, which its admin contests or repairs as a resident does
    enterprise_code = session.get(Organisation, orgs["enterprise"]).credit_code
    session.rollback()
    ent_negatives = {name: world.record_item(severity="general", occurred_at=long_ago)
                     for name in ("ent_record_to_object", "ent_record_to_repair")}
    for item in ent_negatives.values():
        del item["id_number"]
        item["credit_code"] = enterprise_code
    result = world.post("department.officer", f"{d}/records:batch", {"records": list(ent_negatives.values())},
                        status=200)
    by_ref = {i["source_ref"]: i["id"] for i in result["items"]}
    for name, item in ent_negatives.items():
        ids[name] = by_ref[item["source_ref"]]

    # commitments of resident A under department A's template, and a sealed report
    ids["template"] = world.post("department.officer", f"{d}/commitment-templates", TEMPLATE)["id"]
    ids["inspection_draw"] = world.post("department.officer", f"{d}/inspection-draws",
                                        {"count": 1, "inspectors_per_target": 0})["id"]
    ids["template_to_edit"] = world.post("department.officer", f"{d}/commitment-templates", TEMPLATE)["id"]
    for name in ("draft", "draft_to_sign", "signed", "signed_to_fulfil", "signed_to_breach"):
        ids[name] = world.post("resident_a", "/commitments", {"template_id": ids["template"], "fields": FIELDS})["id"]
        if name.startswith("signed"):
            sealed = world.post("resident_a", f"/commitments/{ids[name]}/sign", {"password": PASSWORD}, status=200)
            ids[name + "_public_id"] = sealed["public_id"]
    ids["report_public_id"] = world.post("resident_a", "/me/credit/reports", {})["public_id"]

    # claims waiting for a decision: real-name at a counter, an enterprise claim
    claimant = factory.account()
    ids["real_name_claim"] = identity_service.submit_real_name(
        session=session, settings=settings.with_overrides(real_name_verifier="counter"),
        actor=Actor(account_id=claimant.id), name="赵六", id_number=valid_id_number()).id
    session.commit()
    claimer = factory.user("account")
    claim = world.client.post(f"{API}/enterprises/claims", headers=claimer.headers, json={
        "credit_code": valid_credit_code(), "name": "待认领企业", "region_code": "430104"})
    assert claim.status_code == 201 and claim.json is not None, claim.json
    ids["enterprise_claim"] = claim.json["id"]
    ids["claimable_credit_code"] = valid_credit_code()
    ids["missing"] = "does-not-exist"
    session.rollback()  # no open transaction while the requests run (SQLite)
    return world


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    """Overrides the per-test cleanup of tests/conftest.py: the world lives for the whole module."""
    yield


def _wipe(app: Flask, reference_rows: dict[str, Any]) -> None:
    _clean_tables(app.extensions["engine"], reference_rows)
    app.extensions["redis"].flushdb()
    app.extensions["rate_limiter"].reset()


@pytest.fixture(scope="module")
def world(app: Flask, reference_rows: dict[str, Any]) -> Iterator[World]:
    try:
        built = _build(app)
    except BaseException:
        _wipe(app, reference_rows)  # leave nothing behind for the next module's tests
        raise
    yield built
    built.factory.session.close()
    _wipe(app, reference_rows)


# --------------------------------------------------------------------------- one cell


def _org_for(world: World, rule: str, call: Call) -> str | None:
    kind = authz.path_kind(rule)
    if kind is None:
        return None
    name, _, where = call.caller.partition("@")
    if kind == "caller" or where == "kind":
        kind = name.split(".")[0] if "." in name else "village"
    return world.orgs[kind + ("@other" if where == "own" else "")]


def _right_org(world: World, rule: str, call: Call) -> str | None:
    kind = authz.path_kind(rule)
    if kind == "caller":
        name = call.caller.partition("@")[0]
        kind = name.split(".")[0] if "." in name else "village"
    return world.orgs[kind] if kind else None


def _param(world: World, rule: str, entry: authz.Rule, name: str, call: Call) -> str:
    source = entry.params.get(name)
    if source is None:
        raise AssertionError(f"{rule}: no test object for <{name}>")
    if source == "fresh_member":
        org = _right_org(world, rule, call)
        assert org is not None
        return world.fresh_member(org)
    return world.ids[source]


def request(world: World, key: str, entry: authz.Rule, call: Call) -> tuple[int, str | None, str]:
    method, rule = key.split(" ", 1)
    path = rule
    for name in authz.object_params(rule) + (["org_id"] if "<org_id>" in rule else []):
        value = _org_for(world, rule, call) if name == "org_id" else _param(world, rule, entry, name, call)
        path = path.replace(f"<{name}>", str(value))
    body = entry.body(world, call) if callable(entry.body) else entry.body
    headers = dict(call.user.headers) if call.user else {}
    kwargs: dict[str, Any] = {"headers": headers, "query_string": entry.query}
    if body is not None:
        kwargs["json"] = body
    response = world.client.open(path, method=method, **kwargs)
    code = None
    if response.mimetype in ("application/problem+json", "application/json"):
        payload = response.get_json(silent=True)
        code = payload.get("code") if isinstance(payload, dict) else None
    return response.status_code, code, path


def verdict(status: int, code: str | None, want: str) -> bool:
    if status >= 500:
        return False
    refused = status == 401 or (status in (403, 404) and code not in PAST_AUTHORISATION)
    if want == "ok":
        return not refused
    return refused and status == int(want)


def _user(world: World, caller: str) -> User | None:
    if caller == "anon":
        return None
    name, _, where = caller.partition("@")
    return world.users[name + ("@other" if where in ("other", "own") else "")]


def _cells(key: str, entry: authz.Rule) -> list[tuple[str, str]]:
    """(caller, expected) in the order they run: refusals first (with the admin of another kind of org
    using its own org id), then the other-org object calls, then the allowed callers (whose calls may
    change the object)."""
    plain = [(c, authz.expected(entry, c)) for c in authz.CALLERS]
    refusals = [cell for cell in plain if cell[1] != "ok"]
    allowed = [cell for cell in plain if cell[1] == "ok"]
    idor = [(c, authz.idor_expected(entry)) for c in authz.idor_callers(key, entry)]
    wrong_kind = authz.wrong_kind_caller(key, entry)
    refusals += [(wrong_kind, "404")] if wrong_kind else []
    return refusals + idor + allowed


# --------------------------------------------------------------------------- the tests


def test_every_route_is_in_the_table_and_every_row_is_a_route(app: Flask) -> None:
    routes = authz.route_keys(app)
    unlisted = sorted(routes - set(authz.TABLE))
    gone = sorted(set(authz.TABLE) - routes)
    assert not unlisted, f"decide who may call these routes in tests/platform/authz_table.py: {unlisted}"
    assert not gone, f"the authorisation table names routes that no longer exist: {gone}"


def test_docs_authz_md_is_rendered_from_the_table() -> None:
    committed = (PROJECT_ROOT / "docs" / "authz.md").read_text(encoding="utf-8")
    assert committed == render(), "run `python -m tests.platform.render_authz` to update docs/authz.md"


@pytest.mark.parametrize("key", sorted(authz.TABLE))
def test_each_caller_gets_what_the_table_says(world: World, key: str) -> None:
    entry = authz.TABLE[key]
    wrong = []
    for caller, want in _cells(key, entry):
        status, code, path = request(world, key, entry, Call(caller=caller, user=_user(world, caller)))
        if not verdict(status, code, want):
            wrong.append(f"{caller}: expected {want}, got {status} {code or ''} ({path})")
    assert not wrong, f"{key}:\n  " + "\n  ".join(wrong)


def test_another_villages_clerk_cannot_award_a_resident_of_this_village(world: World) -> None:
    """Objects named in a batch body: the per-item result says 404, nothing is created."""
    other = f"{API}/villages/{world.orgs['village@other']}"
    rule = {"code": "authz-b", "name": "志愿服务", "points": 10, "category": "志愿服务"}
    created = world.client.post(f"{other}/rules", json=rule, headers=world.users["village.admin@other"].headers)
    assert created.status_code in (201, 409), created.json
    response = world.client.post(f"{other}/awards", headers=world.users["village.clerk@other"].headers, json={
        "items": [{"resident_id": world.ids["resident_a_on_roll"], "rule_code": "authz-b"}]})
    assert response.status_code == 201 and response.json is not None, response.json
    assert response.json["items"][0]["error"] == {"code": "resident_not_found", "status": 404}
