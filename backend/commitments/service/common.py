"""Error messages and small helpers shared by the commitment use cases."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.errors import NotFound, register_messages
from backend.identity import ids
from backend.identity import service as identity_service
from backend.identity.models import Organisation, Person

SHANGHAI = ZoneInfo("Asia/Shanghai")

register_messages(
    {
        "template_not_found": ("承诺模板不存在", "Template not found", "找不到该承诺模板。", "No such commitment template."),
        "template_superseded": ("模板已有新版本", "Template superseded", "该模板已有新版本 {current_id}，请使用新版本。", "This template has a newer version {current_id}; use it."),
        "template_pattern_unusable": ("模板字段规则无法使用", "Template pattern unusable", "模板字段 {field} 的规则不是线性时间的 RE2 规则（如含前瞻、反向引用），请部门重新发布模板。", "The pattern of field {field} is not a linear-time RE2 pattern (a lookaround, a backreference); the department must republish the template."),
        "invalid_template": ("承诺模板无效", "Invalid template", "{reason}", "{reason}"),
        "commitment_not_found": ("承诺不存在", "Commitment not found", "找不到该承诺。", "No such commitment."),
        "missing_field": ("缺少承诺字段", "Missing field", "字段 {field} 必须填写。", "Field {field} is required."),
        "unknown_field": ("未知的承诺字段", "Unknown field", "模板中没有字段 {field}。", "The template has no field {field}."),
        "invalid_field_value": ("承诺字段值无效", "Invalid field value", "字段 {field} 的值无效：应为 {expected}。", "Field {field} is invalid: expected {expected}."),
        "commitment_not_draft": ("承诺已签署", "Commitment already signed", "已签署的承诺不可修改或重复签署。", "A signed commitment cannot be changed or signed again."),
        "commitment_not_signed": ("承诺未处于已签署状态", "Commitment not signed", "只有已签署的承诺才能执行此操作（当前状态：{state}）。", "Only a signed commitment allows this (state: {state})."),
        "commitment_already_decided": ("承诺已处理", "Commitment already decided", "该承诺已被标记为 {state}。", "This commitment is already marked {state}."),
        "not_repair_commitment": ("不是信用修复承诺", "Not a credit-repair commitment", "所附承诺必须是信用修复型承诺。", "The attached commitment must be a credit_repair commitment."),
        "paper_commitment_exists": ("纸质承诺已登记", "Paper commitment already recorded", "本部门已登记编号为 {paper_ref} 的纸质承诺。", "Paper commitment {paper_ref} is already recorded by this department."),
        "unknown_enterprise": ("企业未登记", "Unknown enterprise", "平台上没有该统一社会信用代码的企业。", "No enterprise with this credit code is registered."),
        "paper_text_required": ("缺少承诺书内容", "Paper text required", "请给出纸质承诺书的 text，或其所用模板的 template_id。", "Give the paper's text, or the template_id it was printed from."),
        "fields_need_template": ("字段需配合模板使用", "Fields need a template", "fields 只用于按模板（template_id）登记且未给出 text 的纸质承诺。", "fields fill a template's slots: give template_id and no text."),
        "paper_subject_required": ("缺少承诺主体", "Subject required", "请提供 id_number 或 credit_code 之一。", "Give exactly one of id_number or credit_code."),
        "invalid_month": ("月份无效", "Invalid month", "月份格式应为 YYYY-MM（2000 至 2100 年），起始不晚于结束，跨度不超过十年。", "Months are YYYY-MM (2000 to 2100), from not after to, at most ten years apart."),
        "invalid_signed_on": ("签署日期无效", "Invalid signing date", "纸质承诺的签署日期应在 2000-01-01 至今天之间。", "A paper commitment's signing date lies between 2000-01-01 and today."),
        "seal_not_found": ("验证编号不存在", "Seal not found", "找不到该验证编号对应的文书。", "No sealed document has this public id."),
        "report_not_found": ("信用报告不存在", "Report not found", "找不到该信用报告。", "No such credit report."),
    }
)


def iso(value: dt.datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, seconds precision: the form used inside sealed documents."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def person_subject(person: Person) -> dict[str, Any]:
    return {"kind": "person", "name": ids.mask_name(person.name), "id_number": person.id_masked}


def org_subject(org: Organisation) -> dict[str, Any]:
    # Enterprises' names and credit codes are public registry data (国家企业信用信息公示系统).
    return {"kind": "enterprise", "name": org.name, "credit_code": org.credit_code}


def subject_of(session: Session, *, person_id: str | None, org_id: str | None) -> dict[str, Any]:
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is not None:
            return person_subject(person)
    if org_id is not None:
        org = session.get(Organisation, org_id)
        if org is not None:
            return org_subject(org)
    return {"kind": "unknown", "name": ""}


def parse_content(content: str) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def require_enterprise_role(session: Session, actor: Actor, org_id: str, *roles: str) -> Organisation:
    """The enterprise ``org_id`` if the actor holds one of ``roles`` in it: 404 for non-members, 403 else."""
    from backend.errors import Forbidden

    org = identity_service.find_org(session=session, org_id=org_id)
    if org is None or org.kind != "enterprise":
        raise NotFound("org_not_found")
    member = identity_service.load_roles(session=session, actor=actor, org_id=org_id)
    if not member:
        raise NotFound("org_not_found")
    if not member & set(roles):
        raise Forbidden("forbidden_role", required=sorted(roles))
    return org
