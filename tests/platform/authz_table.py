"""The authorisation matrix: who may call which endpoint. This table IS the documentation
(rendered into docs/authz.md by ``python -m tests.platform.render_authz``) and the test
(tests/platform/test_authz_matrix.py calls every endpoint as every caller and checks it).

Callers
    anon          no token
    resident_a    a verified resident; owns the personal objects (records, objections,
                  repairs, commitments, reports) and is on village A's points roll
    resident_b    another verified resident (owns nothing of A's)
    unverified    an account that did not pass real-name verification
    admin         a platform admin (no organisation roles)
    <kind>.<role>         that role in THE RIGHT ORG (the org in the path), e.g. village.clerk
    <kind>.<role>@other   that role in ANOTHER org of the same kind, calling the right org's path

Outcomes, for each (endpoint, caller), first match wins:
    in ``ok``         gets past authorisation (2xx, or 400/409/410/422 on the body's merits,
                      or a business 403/404 such as ``not_eligible`` / ``qr_not_found``);
                      with ``missing=True`` the object does not exist, so these get 404
    anon              401
    in ``notfound``   404
    in ``forbidden``  403
    everyone else     404 (org of another member, object of another person or org)

Patterns: space-separated; ``*`` wildcards match within a caller name (``village.*`` = every
village role of the right org, ``*.admin@other`` = the admin of another org of each kind);
``@other`` must be written to match other-org callers. Aliases: anyone, accounts, residents.

Object level ("IDOR"): for each endpoint with an object in the path (or the body, ``idor=True``),
every role of the path's org kind in ``ok`` is also called as the holder of that role in the other org, with THEIR
OWN org in the path and the right org's object: they must get 404 (``idor="ok"``: allowed,
the object is not owned by an org).

Wrong kind: every non-public endpoint with an org of a given kind in the path is also called by the admin
of an org of another kind with its own org id in the path: 404.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS: dict[str, tuple[str, ...]] = {
    "village": ("admin", "clerk", "approver", "cashier"),
    "merchant": ("admin", "cashier"),
    "hospital": ("admin", "clinician", "billing"),
    "department": ("admin", "officer"),
    "enterprise": ("admin", "signer"),
}
PEOPLE = ("anon", "resident_a", "resident_b", "unverified", "admin")
ROLES = tuple(f"{kind}.{role}" for kind, roles in KINDS.items() for role in roles)
CALLERS = PEOPLE + ROLES + tuple(f"{r}@other" for r in ROLES)
ALIASES = {
    "anyone": " ".join(CALLERS),
    "accounts": " ".join(c for c in CALLERS if c != "anon"),
    "residents": "resident_a resident_b",
}

# Path prefix -> kind of the org in <org_id>; "caller": the org of the caller's own kind
# (the village for callers without an org role).
PATH_KINDS = (
    ("/api/v1/villages/<org_id>", "village"),
    ("/api/v1/merchants/<org_id>", "merchant"),
    ("/api/v1/hospitals/<org_id>", "hospital"),
    ("/api/v1/departments/<org_id>", "department"),
    ("/api/v1/enterprises/<org_id>", "enterprise"),
    ("/api/v1/orgs/<org_id>", "caller"),
)

Body = dict[str, Any] | Callable[..., dict[str, Any]] | None


@dataclass(frozen=True)
class Rule:
    ok: str
    forbidden: str = ""
    notfound: str = ""
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> object of the test world
    body: Body = None  # JSON body, or a function (world, call) -> body
    query: dict[str, str] | None = None
    missing: bool = False  # the path names an object that does not exist (say why in ``note``)
    idor: bool | str | None = None  # None: automatic (an object in the path); "ok": not org-owned
    note: str = ""


def _resolve(spec: str) -> list[str]:
    out: list[str] = []
    for token in spec.split():
        out.extend(ALIASES[token].split() if token in ALIASES else [token])
    return out


def matches(spec: str, caller: str) -> bool:
    name, _, where = caller.partition("@")
    for pattern in _resolve(spec):
        p_name, _, p_where = pattern.partition("@")
        if p_where == where and fnmatch.fnmatchcase(name, p_name):
            return True
    return False


def path_kind(rule: str) -> str | None:
    return next((kind for prefix, kind in PATH_KINDS if rule.startswith(prefix)), None)


def object_params(rule: str) -> list[str]:
    names = [name.split(":")[-1] for name in re.findall(r"<([^>]+)>", rule)]
    return [name for name in names if name != "org_id"]


def expected(entry: Rule, caller: str) -> str:
    """What ``caller`` must get: "ok", "401", "403" or "404"."""
    if matches(entry.ok, caller):
        return "404" if entry.missing else "ok"
    if caller == "anon":
        return "401"
    if matches(entry.notfound, caller):
        return "404"
    if matches(entry.forbidden, caller):
        return "403"
    return "404"


def idor_callers(key: str, entry: Rule) -> list[str]:
    """The other-org holders of each allowed role, calling with their own org and the right org's object."""
    rule = key.split(" ", 1)[1]
    has_object = bool(object_params(rule)) if entry.idor is None else bool(entry.idor)
    if not has_object or entry.missing or path_kind(rule) is None:
        return []
    kind = path_kind(rule)
    return [f"{c}@own" for c in ROLES if matches(entry.ok, c) and (kind == "caller" or c.startswith(f"{kind}."))]


def wrong_kind_caller(key: str, entry: Rule) -> str | None:
    """The admin of an org of another kind, with its own org id in the path: 404 (the org is not of this
    kind). Not for public endpoints (what they answer for such an id is not a matter of authorisation)."""
    kind = path_kind(key.split(" ", 1)[1])
    if kind in (None, "caller") or matches(entry.ok, "anon"):
        return None
    return f"{'merchant' if kind == 'village' else 'village'}.admin@kind"


def idor_expected(entry: Rule) -> str:
    return "ok" if entry.idor == "ok" else "404"


# --------------------------------------------------------------------------- bodies


def _code(world: Any, call: Any) -> dict[str, Any]:
    return {"code": world.fresh_code()}


def _store_redemption(world: Any, call: Any) -> dict[str, Any]:
    return {"code": world.fresh_code(), "item_id": world.ids["store_item"], "quantity": 1}


def _offer_redemption(world: Any, call: Any) -> dict[str, Any]:
    return {"code": world.fresh_code(), "offer_id": world.ids["offer"]}


def _award(world: Any, call: Any) -> dict[str, Any]:
    return {"items": [{"resident_id": world.ids["resident_a_on_roll"], "rule_code": "volunteer"}]}


def _resident(world: Any, call: Any) -> dict[str, Any]:
    return {"phone": world.users["spare_resident"].phone}


def _member(world: Any, call: Any) -> dict[str, Any]:
    return {"phone": world.users["spare_account"].phone, "roles": ["admin"]}


def _objection(world: Any, call: Any) -> dict[str, Any]:
    return {"record_id": world.ids["record_to_object"], "reason": "不是本人的记录", "evidence": []}


def _repair(world: Any, call: Any) -> dict[str, Any]:
    return {"record_id": world.ids["record_to_repair"], "statement": "罚款已缴清，已整改"}


def _ent_objection(world: Any, call: Any) -> dict[str, Any]:
    return {"record_id": world.ids["ent_record_to_object"], "reason": "处罚已撤销", "evidence": []}


def _ent_repair(world: Any, call: Any) -> dict[str, Any]:
    return {"record_id": world.ids["ent_record_to_repair"], "statement": "已整改完毕"}


def _batch(world: Any, call: Any) -> dict[str, Any]:
    return {"records": [world.record_item()]}


def _enterprise_claim(world: Any, call: Any) -> dict[str, Any]:
    return {"credit_code": world.ids["claimable_credit_code"], "name": "测试企业", "region_code": "430104"}


def _on_behalf(world: Any, call: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Enterprise staff act for the right enterprise (theirs, or not theirs for @other); others for themselves."""
    if call.caller.startswith("enterprise."):
        return {**body, "on_behalf_of": world.orgs["enterprise"]}
    return body


def _draft(world: Any, call: Any) -> dict[str, Any]:
    return _on_behalf(world, call, {"template_id": world.ids["template"], "fields": world.FIELDS})


def _report(world: Any, call: Any) -> dict[str, Any]:
    return _on_behalf(world, call, {"purpose": "authz"})


def _offline(world: Any, call: Any) -> dict[str, Any]:
    return {"type": "public_disclosure", "title": "主动公示型信用承诺书", "template_id": world.ids["template"],
            "id_number": world.users["resident_a"].id_number, "signed_on": "2026-11-01",
            "paper_ref": world.unique("paper")}


def _fields(world: Any, call: Any) -> dict[str, Any]:
    return {"fields": world.FIELDS}


def _sign(world: Any, call: Any) -> dict[str, Any]:
    return {"password": world.PASSWORD}


def _template(world: Any, call: Any) -> dict[str, Any]:
    return dict(world.TEMPLATE)


def _offer(world: Any, call: Any) -> dict[str, Any]:
    return {"scenario": "public_bikes", "title": "免押骑行", "benefit": "免 199 元押金", "min_level": "A"}


POLICY = {"min_level": "A", "lines_fen": {"A": 100000, "AA": 200000, "AAA": 300000}, "repayment_days": 10}
DEPT_ONLY = "department.*"
VILLAGE_MEMBER = "village.* admin resident_a"  # staff of any role, platform admins, residents on the roll
VILLAGE_MEMBER_NOTE = "members = village staff of any role, platform admins and residents on the village's points roll"

# --------------------------------------------------------------------------- the table

SECTIONS: dict[str, dict[str, Rule]] = {
    "Platform": {
        "GET /healthz": Rule(ok="anyone"),
        "GET /readyz": Rule(ok="anyone"),
        "GET /api/v1/healthz": Rule(ok="anyone"),
        "GET /api/v1/readyz": Rule(ok="anyone"),
        "GET /.well-known/jwks.json": Rule(ok="anyone"),
        "GET /v/<public_id>": Rule(ok="anyone", params={"public_id": "signed_public_id"}),
    },
    "Accounts": {
        "POST /api/v1/auth/register": Rule(ok="anyone", body={}),
        "POST /api/v1/auth/login": Rule(ok="anyone", body={}),
        "POST /api/v1/auth/refresh": Rule(ok="anyone", body={}),
        "POST /api/v1/auth/logout": Rule(ok="accounts", body={},
                                         note="someone else's refresh token is silently ignored (204, nothing revoked)"),
    },
    "Me, identity and organisations": {
        "GET /api/v1/me": Rule(ok="accounts"),
        "POST /api/v1/me/real-name": Rule(ok="accounts", body={}),
        "GET /api/v1/departments/<org_id>/real-name-claims": Rule(ok="department.officer", forbidden=DEPT_ONLY),
        "POST /api/v1/departments/<org_id>/real-name-claims/<claim_id>/decision": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"claim_id": "real_name_claim"},
            body={"outcome": "rejected", "note": "证件不符"}, idor="ok",
            note="real-name claims belong to no organisation: any department's officer is a service counter"),
        "GET /api/v1/me/qr-codes": Rule(ok="residents", forbidden="accounts"),
        "POST /api/v1/me/qr-codes": Rule(ok="residents", forbidden="accounts"),
        "POST /api/v1/orgs": Rule(ok="admin", forbidden="accounts",
                                  body={"kind": "village", "name": "授权测试村", "region_code": "430104"}),
        "GET /api/v1/orgs": Rule(ok="admin", forbidden="accounts"),
        "GET /api/v1/orgs/<org_id>": Rule(ok="*.* admin", note="path org: the org of the caller's kind"),
        "GET /api/v1/orgs/<org_id>/members": Rule(ok="*.admin admin", forbidden="*.*",
                                                  note="path org: the org of the caller's kind"),
        "POST /api/v1/orgs/<org_id>/members": Rule(ok="*.admin admin", forbidden="*.*", body=_member,
                                                   note="path org: the org of the caller's kind"),
        "DELETE /api/v1/orgs/<org_id>/members/<account_id>": Rule(
            ok="*.admin admin", forbidden="*.*", params={"account_id": "fresh_member"},
            note="path org: the org of the caller's kind; a fresh member of the right org each call"),
        "POST /api/v1/enterprises/claims": Rule(ok="accounts", body=_enterprise_claim),
        "GET /api/v1/enterprises/claims": Rule(ok="accounts", note="admins see all claims, others their own"),
        "POST /api/v1/enterprises/claims/<claim_id>/decision": Rule(
            ok="admin", forbidden="accounts", params={"claim_id": "enterprise_claim"}, body={"outcome": "rejected"}),
    },
    "Credit": {
        "GET /api/v1/credit/categories": Rule(ok="anyone"),
        "GET /api/v1/credit/models": Rule(ok="admin", forbidden="accounts"),
        "POST /api/v1/credit/models": Rule(ok="admin", forbidden="accounts", body={}),
        "POST /api/v1/credit/models/<version>/activate": Rule(
            ok="admin", forbidden="accounts", params={"version": "missing"}, missing=True,
            note="non-existent version: activating a real one would rescore every subject of the run"),
        "POST /api/v1/departments/<org_id>/records:batch": Rule(ok="department.officer", forbidden=DEPT_ONLY,
                                                                body=_batch),
        "GET /api/v1/departments/<org_id>/records": Rule(ok="department.officer department.admin",
                                                         note="wider than API.md (officer): the department admin audits too"),
        "GET /api/v1/me/credit": Rule(ok="residents", forbidden="accounts"),
        "GET /api/v1/me/credit/records": Rule(ok="residents", forbidden="accounts"),
        "GET /api/v1/me/credit/history": Rule(ok="residents", forbidden="accounts"),
        "GET /api/v1/me/credit/queries": Rule(ok="residents", forbidden="accounts"),
        "GET /api/v1/me/credit/objections": Rule(ok="residents", forbidden="accounts"),
        "POST /api/v1/me/credit/objections": Rule(ok="resident_a", notfound="resident_b", forbidden="accounts",
                                                  body=_objection, note="body names resident A's record"),
        "GET /api/v1/departments/<org_id>/objections": Rule(ok="department.officer", forbidden=DEPT_ONLY),
        "POST /api/v1/departments/<org_id>/objections/<objection_id>/decision": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"objection_id": "objection"},
            body={"outcome": "upheld", "note": "记录无误"}),
        "GET /api/v1/me/credit/repairs": Rule(ok="residents", forbidden="accounts"),
        "POST /api/v1/me/credit/repairs": Rule(ok="resident_a", notfound="resident_b", forbidden="accounts",
                                               body=_repair, note="body names resident A's record"),
        "GET /api/v1/departments/<org_id>/repairs": Rule(ok="department.officer", forbidden=DEPT_ONLY),
        "POST /api/v1/departments/<org_id>/repairs/<repair_id>/decision": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"repair_id": "repair"},
            body={"outcome": "rejected", "note": "材料不全"}),
        "GET /api/v1/enterprises/<org_id>/credit": Rule(
            ok="enterprise.admin department.officer department.officer@other admin", forbidden="enterprise.*",
            note="any department's officer (supervision), the enterprise's admin, platform admins"),
        "GET /api/v1/enterprises/<org_id>/credit/records": Rule(ok="enterprise.admin", forbidden="enterprise.*"),
        "GET /api/v1/enterprises/<org_id>/credit/objections": Rule(ok="enterprise.admin", forbidden="enterprise.*"),
        "POST /api/v1/enterprises/<org_id>/credit/objections": Rule(
            ok="enterprise.admin", forbidden="enterprise.*", body=_ent_objection,
            note="body names enterprise A's record; another enterprise's admin gets 404 for it"),
        "GET /api/v1/enterprises/<org_id>/credit/repairs": Rule(ok="enterprise.admin", forbidden="enterprise.*"),
        "POST /api/v1/enterprises/<org_id>/credit/repairs": Rule(
            ok="enterprise.admin", forbidden="enterprise.*", body=_ent_repair,
            note="body names enterprise A's record; another enterprise's admin gets 404 for it"),
        "GET /api/v1/departments/<org_id>/enterprises": Rule(ok="department.officer", forbidden=DEPT_ONLY,
                                                             note="graded supervision list of all enterprises"),
        "POST /api/v1/departments/<org_id>/inspection-draws": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, body={"count": 1, "inspectors_per_target": 0},
            note="双随机 draw"),
        "GET /api/v1/departments/<org_id>/inspection-draws": Rule(ok="department.officer department.admin",
                                                                  forbidden=DEPT_ONLY),
        "GET /api/v1/departments/<org_id>/inspection-draws/<draw_id>": Rule(
            ok="department.officer department.admin", forbidden=DEPT_ONLY, params={"draw_id": "inspection_draw"}),
    },
    "Points (厚德积分)": {
        "GET /api/v1/villages/<org_id>/rules": Rule(ok=VILLAGE_MEMBER, note=VILLAGE_MEMBER_NOTE),
        "POST /api/v1/villages/<org_id>/rules": Rule(
            ok="village.admin", forbidden="village.*",
            body={"code": "authz", "name": "授权测试", "points": 5, "category": "志愿服务"}),
        "PATCH /api/v1/villages/<org_id>/rules/<code>": Rule(ok="village.admin", forbidden="village.*",
                                                             params={"code": "rule_code"}, body={"name": "志愿服务"}),
        "POST /api/v1/villages/<org_id>/residents": Rule(ok="village.admin village.clerk", forbidden="village.*",
                                                         body=_resident),
        "GET /api/v1/villages/<org_id>/residents": Rule(ok="village.*"),
        "GET /api/v1/villages/<org_id>/star-thresholds": Rule(ok=VILLAGE_MEMBER, note=VILLAGE_MEMBER_NOTE),
        "PUT /api/v1/villages/<org_id>/star-thresholds": Rule(ok="village.admin", forbidden="village.*",
                                                              body={"star_thresholds": [0, 50, 100, 200, 400]}),
        "POST /api/v1/villages/<org_id>/awards": Rule(ok="village.clerk", forbidden="village.*", body=_award),
        "GET /api/v1/villages/<org_id>/awards": Rule(ok=VILLAGE_MEMBER,
                                                     note=VILLAGE_MEMBER_NOTE + "; residents see approved ones only"),
        "GET /api/v1/villages/<org_id>/awards/<award_id>": Rule(ok="village.*", params={"award_id": "award_to_read"}),
        "POST /api/v1/villages/<org_id>/awards/<award_id>/approve": Rule(
            ok="village.approver", forbidden="village.*", params={"award_id": "award_to_approve"},
            note="the submitter may not approve (409 same_person)"),
        "POST /api/v1/villages/<org_id>/awards/<award_id>/reject": Rule(
            ok="village.approver", forbidden="village.*", params={"award_id": "award_to_reject"}, body={"note": "不符"}),
        "POST /api/v1/villages/<org_id>/awards/<award_id>/reverse": Rule(
            ok="village.approver", forbidden="village.*", params={"award_id": "award_to_reverse"},
            body={"reason": "重复登记"}),
        "GET /api/v1/me/points": Rule(ok="residents", forbidden="accounts"),
        "GET /api/v1/me/points/entries": Rule(ok="residents", forbidden="accounts"),
        "GET /api/v1/villages/<org_id>/leaderboard": Rule(ok=VILLAGE_MEMBER, query={"period": "2026-11"},
                                                          note=VILLAGE_MEMBER_NOTE),
        "GET /api/v1/villages/<org_id>/store-items": Rule(ok=VILLAGE_MEMBER, note=VILLAGE_MEMBER_NOTE),
        "POST /api/v1/villages/<org_id>/store-items": Rule(ok="village.admin", forbidden="village.*",
                                                           body={"name": "毛巾", "price": 5, "stock": 10}),
        "PATCH /api/v1/villages/<org_id>/store-items/<item_id>": Rule(
            ok="village.admin", forbidden="village.*", params={"item_id": "store_item"}, body={"name": "肥皂"}),
        "GET /api/v1/villages/<org_id>/store-redemptions": Rule(
            ok="village.admin village.cashier", forbidden="village.*", note="the store's sales, masked names"),
        "POST /api/v1/villages/<org_id>/store-redemptions": Rule(
            ok="village.cashier", forbidden="village.*", body=_store_redemption, idor=True,
            note="body: a fresh code of resident A and the right village's item"),
        "POST /api/v1/villages/<org_id>/store-redemptions/<sale_id>/void": Rule(
            ok="village.admin", forbidden="village.*", params={"sale_id": "store_sale"}, body={"reason": "退货"}),
    },
    "Scenarios (信易+) and medical credit (信用+医疗)": {
        "GET /api/v1/scenarios": Rule(ok="anyone"),
        "POST /api/v1/scenarios": Rule(ok="admin", forbidden="accounts", body={}),
        "GET /api/v1/scenario-stats": Rule(ok="admin", forbidden="accounts"),
        "GET /api/v1/scenarios/<code>": Rule(ok="anyone", params={"code": "scenario"}),
        "PATCH /api/v1/scenarios/<code>": Rule(ok="admin", forbidden="accounts", params={"code": "scenario"}, body={}),
        "GET /api/v1/offers": Rule(ok="anyone"),
        "GET /api/v1/merchants/<org_id>/offers": Rule(ok="anyone"),
        "POST /api/v1/merchants/<org_id>/offers": Rule(ok="merchant.admin", forbidden="merchant.*", body=_offer),
        "GET /api/v1/merchants/<org_id>/offers/<offer_id>": Rule(ok="anyone", params={"offer_id": "offer"}),
        "PATCH /api/v1/merchants/<org_id>/offers/<offer_id>": Rule(
            ok="merchant.admin", forbidden="merchant.*", params={"offer_id": "offer"}, body={"title": "免押骑行"}),
        "GET /api/v1/me/benefits": Rule(ok="residents", forbidden="accounts"),
        "POST /api/v1/merchants/<org_id>/scans": Rule(ok="merchant.*", body=_code,
                                                      note="wider than API.md (cashier): the merchant admin works the counter too"),
        "POST /api/v1/merchants/<org_id>/redemptions": Rule(
            ok="merchant.*", body=_offer_redemption, idor=True,
            note="body: a fresh code and the right merchant's offer; wider than API.md (cashier): the admin too"),
        "GET /api/v1/merchants/<org_id>/redemptions": Rule(ok="merchant.*"),
        "POST /api/v1/merchants/<org_id>/redemptions/<redemption_id>/void": Rule(
            ok="merchant.admin", forbidden="merchant.*", params={"redemption_id": "redemption"},
            body={"reason": "误操作"}),
        "GET /api/v1/merchants/<org_id>/redemptions.csv": Rule(ok="merchant.admin", forbidden="merchant.*"),
        "GET /api/v1/hospitals/<org_id>/credit-policy": Rule(ok="hospital.*",
                                                            note="all hospital staff read the policy; only its admin sets it"),
        "PUT /api/v1/hospitals/<org_id>/credit-policy": Rule(ok="hospital.admin", forbidden="hospital.*", body=POLICY),
        "POST /api/v1/hospitals/<org_id>/eligibility": Rule(
            ok="hospital.clinician hospital.admin", forbidden="hospital.*", body=_code,
            note="wider than API.md (clinician): the hospital admin too"),
        "GET /api/v1/hospitals/<org_id>/visits": Rule(ok="hospital.*"),
        "POST /api/v1/hospitals/<org_id>/visits": Rule(ok="hospital.clinician", forbidden="hospital.*", body=_code),
        "GET /api/v1/hospitals/<org_id>/visits/<visit_id>": Rule(ok="hospital.*", params={"visit_id": "visit"}),
        "POST /api/v1/hospitals/<org_id>/visits/<visit_id>/charges": Rule(
            ok="hospital.billing", forbidden="hospital.*", params={"visit_id": "visit"},
            body={"amount_fen": 1, "item": "挂号费"}),
        "POST /api/v1/hospitals/<org_id>/visits/<visit_id>/settle": Rule(
            ok="hospital.billing", forbidden="hospital.*", params={"visit_id": "visit_to_settle"}),
        "GET /api/v1/hospitals/<org_id>/bills": Rule(ok="hospital.billing hospital.admin", forbidden="hospital.*"),
        "GET /api/v1/hospitals/<org_id>/bills/<bill_id>": Rule(ok="hospital.billing hospital.admin",
                                                               forbidden="hospital.*", params={"bill_id": "bill"}),
        "POST /api/v1/hospitals/<org_id>/bills/<bill_id>/payments": Rule(
            ok="hospital.billing", forbidden="hospital.*", params={"bill_id": "bill"},
            body={"amount_fen": 1, "method": "cash"}),
        "GET /api/v1/me/medical/bills": Rule(ok="residents", forbidden="accounts"),
    },
    "Commitments and credit reports": {
        "GET /api/v1/departments/<org_id>/commitment-templates": Rule(ok="anyone"),
        "POST /api/v1/departments/<org_id>/commitment-templates": Rule(ok="department.officer", forbidden=DEPT_ONLY,
                                                                       body=_template),
        "GET /api/v1/departments/<org_id>/commitment-templates/<template_id>": Rule(
            ok="anyone", params={"template_id": "template"}),
        "PUT /api/v1/departments/<org_id>/commitment-templates/<template_id>": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"template_id": "template_to_edit"},
            body={"title": "主动公示型信用承诺书"}),
        "POST /api/v1/commitments": Rule(
            ok="residents enterprise.admin enterprise.signer", notfound="enterprise.*@other", forbidden="accounts",
            body=_draft, note="for oneself (verified) or on_behalf_of an enterprise (its admin or signer)"),
        "GET /api/v1/commitments/<commitment_id>": Rule(ok="resident_a", notfound="resident_b", params={"commitment_id": "draft"},
                                                       note="drafter or subject only"),
        "PATCH /api/v1/commitments/<commitment_id>": Rule(ok="resident_a", notfound="resident_b", params={"commitment_id": "draft"},
                                                         body=_fields, note="drafter or subject only"),
        "POST /api/v1/commitments/<commitment_id>/sign": Rule(ok="resident_a", notfound="resident_b", params={"commitment_id": "draft_to_sign"},
                                                             body=_sign, note="the drafter only, password re-checked"),
        "GET /api/v1/me/commitments": Rule(ok="accounts"),
        "GET /api/v1/departments/<org_id>/commitments": Rule(ok="department.officer", forbidden=DEPT_ONLY),
        "POST /api/v1/departments/<org_id>/commitments:offline": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, body=_offline, idor=True,
            note="body names the right department's template"),
        "GET /api/v1/departments/<org_id>/commitments/stats": Rule(ok="department.officer", forbidden=DEPT_ONLY),
        "GET /api/v1/departments/<org_id>/commitments/<commitment_id>": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"commitment_id": "signed"}),
        "POST /api/v1/departments/<org_id>/commitments/<commitment_id>/fulfil": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"commitment_id": "signed_to_fulfil"}, body={}),
        "POST /api/v1/departments/<org_id>/commitments/<commitment_id>/breach": Rule(
            ok="department.officer", forbidden=DEPT_ONLY, params={"commitment_id": "signed_to_breach"},
            body={"reason": "未按期履约"}),
        "POST /api/v1/me/credit/reports": Rule(
            ok="residents enterprise.admin", notfound="enterprise.*@other", forbidden="accounts", body=_report,
            note="of oneself (verified) or on_behalf_of an enterprise (its admin)"),
        "GET /api/v1/me/credit/reports": Rule(ok="accounts"),
        "GET /api/v1/public/commitments/<public_id>": Rule(ok="anyone", params={"public_id": "signed_public_id"}),
        "GET /api/v1/public/commitments/<public_id>/qr.png": Rule(ok="anyone",
                                                                  params={"public_id": "signed_public_id"}),
        "GET /api/v1/public/reports/<public_id>": Rule(ok="anyone", params={"public_id": "report_public_id"}),
        "GET /api/v1/public/reports/<public_id>/qr.png": Rule(ok="anyone", params={"public_id": "report_public_id"}),
    },
}
TABLE: dict[str, Rule] = {key: rule for section in SECTIONS.values() for key, rule in section.items()}

# Routes that are not API endpoints (documentation and static files).
EXCLUDED_ENDPOINTS = ("static", "api-docs.")


def route_keys(app: Any) -> set[str]:
    """Every "METHOD /rule" of the app's URL map except HEAD/OPTIONS and the docs/static routes."""
    keys = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api-docs."):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            keys.add(f"{method} {rule.rule}")
    return keys
